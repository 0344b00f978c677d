"""The e-invoice an invoice is issued with (EN 16931), built from the invoice as fixed at issue and
validated before the issue commits: Factur-X (CII, later embedded in the PDF/A-3) or, for customers
who take it, XRechnung in CII or UBL. A rule it breaks stops the issue (422, naming each rule, its
business terms and where), so that nothing invalid is ever issued, let alone mailed."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.einvoicing.generate import invoice_xml
from domain.einvoicing.model import (
    Address,
    Contact,
    Delivery,
    DocumentAllowance,
    DocumentType,
    EInvoice,
    ElectronicAddress,
    Flavour,
    Party,
    Payment,
    PaymentMeans,
    PrecedingInvoice,
    Skonto,
    TaxBreakdown,
    TaxCategory,
    Totals,
)
from domain.einvoicing.model import (
    InvoiceLine as EInvoiceLine,
)
from domain.einvoicing.units import unit_code_for
from domain.einvoicing.validation import EInvoiceRejected, ensure_valid
from domain.invoicing.issuing import EInvoiceFile
from domain.invoicing.models import Invoice, InvoiceDeduction, InvoiceLine
from domain.invoicing.tax import exemption_text
from domain.users import User
from kernel.errors import ValidationFailed
from kernel.money import HUNDRED, ZERO

FLAVOURS = {"factur_x": Flavour.FACTURX_EN16931, "xrechnung_cii": Flavour.XRECHNUNG_CII,
            "xrechnung_ubl": Flavour.XRECHNUNG_UBL}
TYPES = {"invoice": DocumentType.INVOICE, "down_payment": DocumentType.PREPAYMENT_INVOICE,
         "credit_note": DocumentType.CREDIT_NOTE}
PRICE_PLACES = Decimal("0.0001")


def flavour_of(invoice: Invoice) -> Flavour:
    return FLAVOURS[invoice.einvoice_format]


def make_einvoice(session: Session, invoice: Invoice, lines: list[InvoiceLine]) -> EInvoiceFile:
    """Build and validate the e-invoice; ValidationFailed names each broken rule."""
    flavour = flavour_of(invoice)
    xml = invoice_xml(einvoice_of(session, invoice, lines), flavour)
    try:
        ensure_valid(xml, flavour)
    except EInvoiceRejected as rejected:
        raise ValidationFailed(
            f"the e-invoice of {invoice.number} breaks the rules of EN 16931; nothing was issued",
            [{"field": violation.rule, "message": violation.describe()} for violation in rejected.report.fatal],
        ) from None
    suffix = "" if flavour is Flavour.FACTURX_EN16931 else f"-{flavour.value}"
    return EInvoiceFile(f"{invoice.number}{suffix}.xml", "application/xml", xml)


def einvoice_of(session: Session, invoice: Invoice, lines: list[InvoiceLine]) -> EInvoice:
    seller, buyer = invoice.seller or {}, invoice.buyer or {}
    lang = invoice.language
    groups = [(g["category"], Decimal(g["rate"]), Decimal(g["net"]), Decimal(g["tax"])) for g in invoice.tax_groups]
    breakdown, allowances = [], []
    for category, rate, net, tax in groups:
        in_group = [line for line in lines if (line.tax_category, line.tax_rate) == (category, rate)]
        lines_net = sum((line.net for line in in_group), ZERO)
        if lines_net != net:  # what the header discount takes off this group
            allowances.append(DocumentAllowance(lines_net - net, TaxCategory(category), rate,
                                                reason="Rabatt" if lang == "de" else "Discount",
                                                basis_amount=lines_net, percent=invoice.header_discount_percent))
        breakdown.append(TaxBreakdown(TaxCategory(category), rate, net, tax,
                                      exemption_text(category, {line.goods for line in in_group}, lang),
                                      _exemption_code(category)))
    line_total = sum((line.net for line in lines), ZERO)
    allowance_total = sum((a.amount for a in allowances), ZERO)
    return EInvoice(
        type_code=TYPES[invoice.kind], number=invoice.number, issue_date=invoice.issue_date,
        seller=_seller(session, invoice, seller), buyer=_buyer(invoice, buyer),
        lines=tuple(_line(line) for line in lines), tax_breakdown=tuple(breakdown),
        totals=Totals(line_total, allowance_total, invoice.net_total, invoice.tax_total, invoice.gross_total,
                      invoice.amount_due, invoice.prepaid_total),
        payment=_payment(invoice, seller), currency=invoice.currency, buyer_reference=invoice.buyer_reference,
        order_reference=invoice.customer_order_reference, notes=_notes(invoice, breakdown),
        preceding_invoices=_preceding(session, invoice), delivery=_delivery(invoice, buyer),
        allowances=tuple(allowances), language=lang)


def _exemption_code(category: str) -> str | None:
    return {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G"}.get(category)


def _address(party: dict) -> Address:
    lines = tuple(part for part in (party.get("street"), party.get("street2")) if part)
    return Address(lines, party.get("postal_code") or "", party.get("city") or "", party.get("country") or "")


def _seller(session: Session, invoice: Invoice, seller: dict) -> Party:
    """The company; its contact is who issued the invoice (name, phone, e-mail), else the company's own."""
    user = session.scalar(select(User).where(User.username == invoice.issued_by))
    contact = Contact(name=(user.full_name if user and user.full_name else seller["name"]),
                      phone=(user.phone if user and user.phone else seller.get("phone")),
                      email=(user.email if user and user.email else seller.get("email")))
    return Party(name=seller["name"], address=_address(seller), vat_id=seller.get("vat_id"),
                 tax_number=seller.get("tax_number"),
                 electronic_address=ElectronicAddress(seller["email"]) if seller.get("email") else None,
                 contact=contact, registration_id=seller.get("register"))


def _buyer(invoice: Invoice, buyer: dict) -> Party:
    if invoice.buyer_reference and invoice.einvoice_format.startswith("xrechnung"):
        address = ElectronicAddress(invoice.buyer_reference, "0204")  # the Leitweg-ID routes public invoices
    else:
        address = ElectronicAddress(buyer["email"]) if buyer.get("email") else None
    contact = Contact(buyer["contact"], email=buyer.get("email")) if buyer.get("contact") else None
    return Party(name=buyer["name"], address=_address(buyer), vat_id=buyer.get("vat_id"),
                 electronic_address=address, contact=contact)


def _line(line: InvoiceLine) -> EInvoiceLine:
    unit = unit_code_for(line.unit)
    price = (line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED).quantize(PRICE_PLACES, ROUND_HALF_UP)
    period = line.service_to is not None and line.service_to != line.service_from
    return EInvoiceLine(id=str(line.position), name=line.name, quantity=line.quantity, unit_code=unit.code,
                        net_price=price, net_amount=line.net, tax_category=TaxCategory(line.tax_category),
                        tax_rate=line.tax_rate, description=line.description, note=unit.note,
                        seller_item_id=line.sku, period_start=line.service_from if period else None,
                        period_end=line.service_to if period else None)


def _payment(invoice: Invoice, seller: dict) -> Payment:
    skonto = ()
    if invoice.kind != "credit_note" and invoice.skonto_percent and invoice.skonto_days:
        skonto = (Skonto(invoice.skonto_days, invoice.skonto_percent),)
    return Payment(means=PaymentMeans.SEPA_CREDIT_TRANSFER, due_date=invoice.due_date, skonto=skonto,
                   terms=_terms(invoice), remittance_information=invoice.number, seller_iban=seller.get("iban"),
                   seller_account_name=seller.get("name"), seller_bic=seller.get("bic"))


def _terms(invoice: Invoice) -> str:
    if invoice.kind == "credit_note":
        return "Gutschriftsbetrag wird erstattet." if invoice.language == "de" else "The amount will be refunded."
    if invoice.language == "de":
        return f"Zahlbar bis {invoice.due_date:%d.%m.%Y} ohne Abzug."
    return f"Payable by {invoice.due_date:%Y-%m-%d} without deduction."


def _notes(invoice: Invoice, breakdown: list[TaxBreakdown]) -> tuple[str, ...]:
    notes = [row.exemption_reason for row in breakdown if row.exemption_reason]
    if invoice.note:
        notes.append(invoice.note)
    return tuple(dict.fromkeys(notes))


def _preceding(session: Session, invoice: Invoice) -> tuple[PrecedingInvoice, ...]:
    ids = [invoice.corrects_id] if invoice.corrects_id else list(session.scalars(
        select(InvoiceDeduction.down_payment_id).where(InvoiceDeduction.invoice_id == invoice.id)))
    found = session.scalars(select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)) if ids else []
    return tuple(PrecedingInvoice(other.number, other.issue_date) for other in found)


def _delivery(invoice: Invoice, buyer: dict) -> Delivery:
    deliver_to = _address(buyer) if buyer.get("street") else None
    if invoice.service_to and invoice.service_to != invoice.service_from:
        return Delivery(period_start=invoice.service_from, period_end=invoice.service_to,
                        deliver_to_name=buyer.get("name"), deliver_to_address=deliver_to)
    return Delivery(actual_delivery_date=invoice.service_from, deliver_to_name=buyer.get("name"),
                    deliver_to_address=deliver_to)
