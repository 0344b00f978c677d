"""The e-invoices Kontor issues, each built as an EInvoice, written as XML and validated by the XSD and
the EN 16931 (and for XRechnung the KoSIT) rules: none may break a fatal rule. Pure, no database."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from lxml import etree

from domain.einvoicing.generate import EN16931, NAMESPACES, XRECHNUNG_3, invoice_xml
from domain.einvoicing.model import (
    Address,
    Delivery,
    DocumentType,
    Flavour,
    Payment,
    PaymentMeans,
    PrecedingInvoice,
    Skonto,
    TaxCategory,
)
from domain.einvoicing.validation import ensure_valid
from tests.einvoicing_support import (
    EU_BUYER,
    PUBLIC_BUYER,
    SWISS_BUYER,
    TRANSFER,
    domestic_invoice,
    invoice,
    line,
)

ALL = tuple(Flavour)
XRECHNUNG = (Flavour.XRECHNUNG_CII, Flavour.XRECHNUNG_UBL)


def issued(einvoice, flavour):
    """The XML of the invoice, validated; XRechnung gets a buyer reference when the case has none."""
    if flavour.xrechnung and not einvoice.buyer_reference:
        einvoice = replace(einvoice, buyer_reference="PO-4711")
    xml = invoice_xml(einvoice, flavour)
    report = ensure_valid(xml, flavour)
    assert report.fatal == ()
    assert report.rule_sets[0] == "XSD" and len(report.rule_sets) == 3
    return etree.fromstring(xml)


def texts(root, path):
    """The texts at path, with Babel's no-break spaces as plain ones."""
    return [node.text.replace("\xa0", " ") for node in root.xpath(path, namespaces=NAMESPACES)]


@pytest.mark.parametrize("flavour", ALL)
def test_a_domestic_invoice_with_19_and_7_percent_and_a_header_discount(flavour):
    einvoice = domestic_invoice()
    root = issued(einvoice, flavour)
    assert [row.rate for row in einvoice.tax_breakdown] == [D("19"), D("7")]
    assert einvoice.totals.allowance_total == D("75.00")
    if flavour.syntax == "cii":
        assert texts(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
            XRECHNUNG_3 if flavour.xrechnung else EN16931]
        header_taxes = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"
        assert texts(root, header_taxes) == ["19.00", "7.00"]
        seller_tax = "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"
        assert texts(root, seller_tax + "[@schemeID='VA']") == ["DE123456788"]
        assert texts(root, seller_tax + "[@schemeID='FC']") == ["214/5717/1234"]
        assert texts(root, "//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == ["75.00"]
        # an unknown unit is C62 and stays visible as the line's note
        line_notes = texts(root, "//ram:IncludedSupplyChainTradeLineItem//ram:IncludedNote/ram:Content")
        assert "Einheit / unit: Karton-Sonderpack" in line_notes
    else:
        assert texts(root, "/*/cbc:CustomizationID") == [XRECHNUNG_3]
        assert texts(root, "/*/cbc:ProfileID") == ["urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"]
        assert texts(root, "//cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == ["19.00", "7.00"]


@pytest.mark.parametrize("flavour", (Flavour.FACTURX_EN16931, Flavour.XRECHNUNG_UBL, Flavour.XRECHNUNG_CII))
def test_a_credit_note_references_the_original_invoice(flavour):
    credit = invoice((line(1, "Gutschrift Beratung (2 Stunden zu viel berechnet)", "2", "Stunde", "120.00"),),
                     type_code=DocumentType.CREDIT_NOTE, number="GS-2026-0001",
                     preceding_invoices=(PrecedingInvoice("RE-2026-0001", date(2026, 12, 4)),),
                     payment=replace(TRANSFER, due_date=None, terms="Der Betrag wird Ihrem Konto gutgeschrieben."))
    root = issued(credit, flavour)
    if flavour.syntax == "cii":
        assert texts(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
        assert texts(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["RE-2026-0001"]
        assert texts(root, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString") == [
            "20261204"]
    else:
        assert etree.QName(root).localname == "CreditNote"
        assert texts(root, "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == ["RE-2026-0001"]
        assert texts(root, "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == ["2026-12-04"]


@pytest.mark.parametrize("flavour", ALL)
def test_reverse_charge_for_services_to_an_eu_business(flavour):
    einvoice = invoice((line(1, "Implementierung Schnittstelle", "16", "Stunde", "135.00", rate="0",
                             category=TaxCategory.REVERSE_CHARGE),),
                       buyer=EU_BUYER, notes=("Steuerschuldnerschaft des Leistungsempfängers / Reverse charge",))
    (row,) = einvoice.tax_breakdown
    assert (row.category, row.tax_amount, row.exemption_reason_code) == (TaxCategory.REVERSE_CHARGE, D("0.00"),
                                                                         "VATEX-EU-AE")
    root = issued(einvoice, flavour)
    xml = etree.tostring(root, encoding="unicode")
    assert "Steuerschuldnerschaft des Leistungsempfängers" in xml
    assert "VATEX-EU-AE" in xml and "NL123456789B01" in xml and "DE123456788" in xml


@pytest.mark.parametrize("flavour", ALL)
def test_an_intra_community_supply_of_goods(flavour):
    einvoice = invoice((line(1, "Steuermodul KX-200", "4", "Stück", "380.00", rate="0",
                             category=TaxCategory.INTRA_COMMUNITY),),
                       buyer=EU_BUYER,
                       delivery=Delivery(actual_delivery_date=date(2026, 12, 1),
                                         deliver_to_address=Address(("Havenweg 7",), "3011 AB", "Rotterdam", "NL")))
    root = issued(einvoice, flavour)
    xml = etree.tostring(root, encoding="unicode")
    assert "VATEX-EU-IC" in xml and "innergemeinschaftliche Lieferung" in xml
    if flavour.syntax == "cii":
        assert texts(root, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == ["NL"]
        assert texts(root, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == ["20261201"]
    else:
        assert texts(root, "//cac:Delivery//cac:Country/cbc:IdentificationCode") == ["NL"]
        assert texts(root, "//cac:Delivery/cbc:ActualDeliveryDate") == ["2026-12-01"]


@pytest.mark.parametrize("flavour", ALL)
def test_an_export_outside_the_eu(flavour):
    einvoice = invoice((line(1, "Ersatzteilpaket", "1", "Paket", "940.00", rate="0", category=TaxCategory.EXPORT),),
                       buyer=SWISS_BUYER)
    xml = etree.tostring(issued(einvoice, flavour), encoding="unicode")
    assert "VATEX-EU-G" in xml and "Ausfuhrlieferung" in xml


@pytest.mark.parametrize("flavour", ALL)
def test_a_final_invoice_deducts_the_down_payment(flavour):
    lines = (line(1, "Projekt CRM-Einführung, Festpreis", "1", "Pauschale", "10000.00"),
             line(2, "Schulung", "2", "Tag", "950.00"))
    final = invoice(lines, prepaid=D("5950.00"), number="RE-2026-0009",
                    preceding_invoices=(PrecedingInvoice("AR-2026-0003", date(2026, 10, 1)),),
                    notes=("Abzüglich Anzahlung laut Rechnung AR-2026-0003 vom 01.10.2026: 5.000,00 € netto "
                           "zzgl. 950,00 € USt.",))
    assert final.totals.tax_inclusive == D("14161.00")
    assert final.totals.amount_due == D("8211.00")
    root = issued(final, flavour)
    if flavour.syntax == "cii":
        assert texts(root, "//ram:TotalPrepaidAmount") == ["5950.00"]
        assert texts(root, "//ram:DuePayableAmount") == ["8211.00"]
    else:
        assert texts(root, "//cac:LegalMonetaryTotal/cbc:PrepaidAmount") == ["5950.00"]
        assert texts(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["8211.00"]


def test_the_down_payment_invoice_itself():
    down_payment = invoice((line(1, "Anzahlung Projekt CRM-Einführung", "1", "Pauschale", "5000.00"),),
                           type_code=DocumentType.PREPAYMENT_INVOICE, number="AR-2026-0003")
    assert texts(issued(down_payment, Flavour.FACTURX_EN16931), "//rsm:ExchangedDocument/ram:TypeCode") == ["386"]


@pytest.mark.parametrize("flavour", ALL)
def test_sepa_direct_debit(flavour):
    debit = Payment(means=PaymentMeans.SEPA_DIRECT_DEBIT, due_date=date(2026, 12, 14),
                    terms="Der Betrag wird am 14.12.2026 per SEPA-Lastschrift eingezogen.",
                    mandate_reference="MANDAT-0042", creditor_id="DE98ZZZ09999999999",
                    debtor_iban="DE89370400440532013000", remittance_information="RE-2026-0001")
    root = issued(domestic_invoice(payment=debit), flavour)
    xml = etree.tostring(root, encoding="unicode")
    assert "MANDAT-0042" in xml and "DE98ZZZ09999999999" in xml and "DE89370400440532013000" in xml
    if flavour.syntax == "cii":
        assert texts(root, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["59"]
    else:
        assert texts(root, "//cac:PaymentMeans/cbc:PaymentMeansCode") == ["59"]


@pytest.mark.parametrize("flavour", ALL)
def test_sepa_credit_transfer(flavour):
    root = issued(domestic_invoice(), flavour)
    xml = etree.tostring(root, encoding="unicode")
    assert "DE02370501980001802057" in xml and "COLSDE33" in xml
    if flavour.syntax == "cii":
        assert texts(root, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    else:
        assert texts(root, "//cac:PaymentMeans/cbc:PaymentMeansCode") == ["58"]


@pytest.mark.parametrize("flavour", XRECHNUNG)
def test_xrechnung_for_a_public_buyer_with_leitweg_id_contact_and_skonto(flavour):
    payment = replace(TRANSFER, due_date=date(2026, 12, 31), terms="Zahlbar bis 31.12.2026 netto.",
                      skonto=(Skonto(days=10, percent=D("2")), Skonto(days=20, percent=D("1"),
                                                                     basis_amount=D("1000.00"))))
    einvoice = domestic_invoice(buyer=PUBLIC_BUYER, buyer_reference="991-12345-67", payment=payment)
    root = issued(einvoice, flavour)
    path = ("//ram:SpecifiedTradePaymentTerms/ram:Description" if flavour.syntax == "cii"
            else "//cac:PaymentTerms/cbc:Note")
    (terms,) = texts(root, path)
    assert terms.startswith("#SKONTO#TAGE=10#PROZENT=2.00#\n#SKONTO#TAGE=20#PROZENT=1.00#BASISBETRAG=1000.00#\n")
    assert "Bei Zahlung bis zum 14. Dezember 2026 (10 Tage) 2 % Skonto (42,22 €)" in terms
    xml = etree.tostring(root, encoding="unicode")
    assert "991-12345-67" in xml and "Petra Buchhaltung" in xml and "buchhaltung@kontor.example" in xml


def test_factur_x_states_skonto_as_a_sentence_in_the_invoice_language():
    payment = replace(TRANSFER, skonto=(Skonto(days=10, percent=D("2")),))
    for language, sentence in (("de", "Bei Zahlung bis zum 14. Dezember 2026 (10 Tage) 2 % Skonto (42,22 €): "
                                      "Sie zahlen 2.068,53 €."),
                               ("en", "2% early payment discount (€42.22) if paid by 14 December 2026 (10 days): "
                                      "you pay €2,068.53.")):
        root = issued(domestic_invoice(payment=payment, language=language), Flavour.FACTURX_EN16931)
        (terms,) = texts(root, "//ram:SpecifiedTradePaymentTerms/ram:Description")
        assert terms.startswith(sentence) and "#SKONTO#" not in terms


def test_line_periods_and_an_invoicing_period():
    lines = (line(1, "Wartungsvertrag Kontor Pro", "3", "Monat", "89.00", period_start=date(2026, 10, 1),
                  period_end=date(2026, 12, 31)),)
    einvoice = invoice(lines, delivery=Delivery(period_start=date(2026, 10, 1), period_end=date(2026, 12, 31)))
    for flavour in ALL:
        xml = etree.tostring(issued(einvoice, flavour), encoding="unicode")
        assert "20261001" in xml or "2026-10-01" in xml
