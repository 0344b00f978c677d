"""Invoices the e-invoice tests build: a German seller and the customers Kontor sells to (domestic,
EU business, outside the EU, a public authority with a Leitweg-ID)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from domain.einvoicing.figures import tax_breakdown, totals
from domain.einvoicing.model import (
    Address,
    Contact,
    Delivery,
    DocumentAllowance,
    DocumentType,
    EInvoice,
    ElectronicAddress,
    InvoiceLine,
    Party,
    Payment,
    PaymentMeans,
    TaxCategory,
)
from domain.einvoicing.units import unit_code_for

D = Decimal
NOTHING = D("0.00")
ISSUED = date(2026, 12, 4)

SELLER = Party(
    name="Kontor Vertrieb GmbH", address=Address(("Hansaring 12",), "50670", "Köln", "DE"),
    vat_id="DE123456788", tax_number="214/5717/1234",
    electronic_address=ElectronicAddress("rechnung@kontor.example"),
    contact=Contact("Petra Buchhaltung", "+49 221 123456", "buchhaltung@kontor.example"),
    registration_id="HRB 98765")
DOMESTIC_BUYER = Party(
    name="Müller Maschinenbau GmbH", address=Address(("Industriestraße 5", "Halle 3"), "70173", "Stuttgart", "DE"),
    vat_id="DE987654321", electronic_address=ElectronicAddress("eingang@mueller.example"),
    contact=Contact("Hans Müller", email="h.mueller@mueller.example"))
EU_BUYER = Party(
    name="Van Dijk Techniek B.V.", address=Address(("Keizersgracht 100",), "1015 AA", "Amsterdam", "NL"),
    vat_id="NL123456789B01", electronic_address=ElectronicAddress("invoices@vandijk.example"))
SWISS_BUYER = Party(
    name="Alpenwerk AG", address=Address(("Bahnhofstrasse 1",), "8001", "Zürich", "CH"),
    electronic_address=ElectronicAddress("kreditoren@alpenwerk.example"))
PUBLIC_BUYER = Party(
    name="Stadt Musterstadt, Amt für Digitales", address=Address(("Rathausplatz 1",), "12345", "Musterstadt", "DE"),
    electronic_address=ElectronicAddress("991-12345-67", "0204"))
TRANSFER = Payment(means=PaymentMeans.SEPA_CREDIT_TRANSFER, due_date=date(2026, 12, 18),
                   terms="Zahlbar innerhalb von 14 Tagen ohne Abzug.", remittance_information="RE-2026-0001",
                   seller_iban="DE02370501980001802057", seller_bic="COLSDE33",
                   seller_account_name="Kontor Vertrieb GmbH")


def line(number: int, name: str, quantity: str, unit: str, price: str, rate: str = "19",
         category: TaxCategory = TaxCategory.STANDARD, **more) -> InvoiceLine:
    unit_code = unit_code_for(unit)
    net = (D(quantity) * D(price)).quantize(D("0.01"))
    return InvoiceLine(id=str(number), name=name, quantity=D(quantity), unit_code=unit_code.code,
                       net_price=D(price), net_amount=net, tax_category=category, tax_rate=D(rate),
                       note=unit_code.note, **more)


DELIVERED = Delivery(actual_delivery_date=date(2026, 11, 30))


def invoice(lines: tuple[InvoiceLine, ...], *, allowances: tuple[DocumentAllowance, ...] = (),
            prepaid: Decimal = NOTHING, buyer: Party = DOMESTIC_BUYER, number: str = "RE-2026-0001",
            type_code: DocumentType = DocumentType.INVOICE, payment: Payment = TRANSFER,
            delivery: Delivery = DELIVERED, **more) -> EInvoice:
    breakdown = tax_breakdown(lines, allowances)
    return EInvoice(type_code=type_code, number=number, issue_date=ISSUED, seller=SELLER, buyer=buyer,
                    lines=lines, allowances=allowances, tax_breakdown=breakdown,
                    totals=totals(lines, allowances, breakdown, prepaid), payment=payment, delivery=delivery,
                    **more)


def domestic_invoice(**more) -> EInvoice:
    """19 % and 7 % lines, a header discount on the 19 % part."""
    lines = (line(1, "Beratung Einführung", "12.5", "Stunde", "120.00", order_line_reference="1"),
             line(2, "Softwarelizenz Kontor Pro", "5", "Lizenz", "49.90"),
             line(3, "Fachbuch Vertrieb", "2", "Stück", "34.50", rate="7"),
             line(4, "Kabelsatz", "3", "Karton-Sonderpack", "12.40"))
    allowances = (DocumentAllowance(amount=D("75.00"), tax_category=TaxCategory.STANDARD, tax_rate=D("19"),
                                    reason="Rabatt 5 % auf Dienstleistungen"),)
    return invoice(lines, allowances=allowances, order_reference="PO-4711", **more)


def with_total(einvoice: EInvoice, **changes) -> EInvoice:
    return replace(einvoice, totals=replace(einvoice.totals, **changes))
