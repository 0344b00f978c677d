"""Issuing an invoice or a credit note: in one transaction it takes the next number of its series
(gapless per series and year: the series row stays locked until the transaction ends, so a failed
issue gives its number back), fixes its sums, dates, seller and buyer, builds its e-invoice and
validates it — a rule the e-invoice breaks stops the issue, naming the rule and the field — and
stores that XML. The invoice row is written once, draft to issued, after which it never changes.

Its PDF (PDF/A-3 with the same XML inside) is rendered afterwards from what was fixed here, and its
mail queued then: a retry renders the same document again, and nothing can change the invoice."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import Customer
from domain.customers.timeline import money_param
from domain.invoicing.access import invoice_for_change
from domain.invoicing.content import missing_content
from domain.invoicing.models import Invoice, InvoiceDeduction, InvoiceLine, series_of
from domain.invoicing.parties import buyer_of, seller_of
from domain.lifecycle import TraceEntry, change_state
from domain.numbering import next_number
from domain.orders.models import Order, OrderLine
from domain.orders.progress import refresh_order_state
from domain.settings import CompanySettings
from kernel import formatting
from kernel.clock import utcnow
from kernel.errors import ValidationFailed
from kernel.money import DocumentTotals, TaxedLine, document_totals, percent_of
from kernel.principal import Principal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class EInvoiceFile:
    filename: str
    content_type: str
    content: bytes


# Builds and validates the e-invoice of an invoice about to be issued; raises ValidationFailed
# naming the broken rule. Given by the wiring (domain.invoicing.einvoice).
EInvoiceMaker = Callable[[Session, Invoice, list[InvoiceLine]], EInvoiceFile]
# Stores a file the invoice was issued as; returns the document's id.
FileKeeper = Callable[[Session, Invoice, EInvoiceFile], None]


def lines_of(session: Session, invoice_id: int) -> list[InvoiceLine]:
    return list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                .order_by(InvoiceLine.position)))


def check_issuable(session: Session, who: Principal, invoice_id: int, settings: CompanySettings, today: date,
                   make_einvoice: EInvoiceMaker | None = None) -> None:
    """Everything the issue would check, tried now and undone: what the law asks of the invoice and
    the rules its e-invoice must keep (with a stand-in number). ValidationFailed names what is wrong,
    so that a draft is released only when it can be issued as it stands."""
    savepoint = session.begin_nested()
    try:
        issue_invoice(session, who, invoice_id, settings, today, make_einvoice, number=f"PREVIEW-{invoice_id}")
    finally:
        savepoint.rollback()


def totals_of(invoice: Invoice, lines: list[InvoiceLine]) -> DocumentTotals:
    """The sums of the invoice's lines as the shared money module makes them (what the issue fixes)."""
    return document_totals((TaxedLine(line.net, line.tax_rate, line.tax_category) for line in lines),
                           invoice.header_discount_percent)


def issue_invoice(session: Session, who: Principal, invoice_id: int, settings: CompanySettings, today: date,
                  make_einvoice: EInvoiceMaker | None = None, keep_file: FileKeeper | None = None,
                  number: str | None = None) -> Invoice:
    """Issue the draft (an issued invoice is returned as it is: a retried issue changes nothing).
    `number`: a stand-in instead of the series' next (check_issuable)."""
    invoice = invoice_for_change(session, who, invoice_id)
    if invoice.status == "issued":
        return invoice
    lines = lines_of(session, invoice.id)
    customer = session.get(Customer, invoice.customer_id)
    seller, buyer = seller_of(settings), buyer_of(session, customer, invoice.billing_address_id, invoice.contact_id)
    totals = totals_of(invoice, lines)
    errors = missing_content(seller, buyer, lines, {line.tax_category for line in lines}, totals.gross_total)
    if errors:
        raise ValidationFailed(f"invoice {invoice.label} lacks what the law asks of an invoice", errors)
    prepaid = _prepaid(session, invoice)
    for line in lines:  # the date of supply: the delivery's, else the invoice's own (§14 (4) Nr. 6 UStG)
        if line.service_from is None:
            line.service_from = today
    session.flush()  # the lines while the invoice is a draft; next, the invoice row once, draft to issued
    number = number or next_number(session, series_of(invoice.kind), today.year)
    invoice.number, invoice.issue_date, invoice.issued_at = number, today, utcnow()
    invoice.issued_by = invoice.released_by or who.username
    invoice.due_date = today + timedelta(days=invoice.payment_days)
    if invoice.skonto_percent and invoice.skonto_days and invoice.kind != "credit_note":
        invoice.skonto_until = today + timedelta(days=invoice.skonto_days)
        invoice.skonto_amount = percent_of(totals.gross_total - prepaid, invoice.skonto_percent)
    invoice.service_from = min(line.service_from for line in lines)
    invoice.service_to = max(line.service_to or line.service_from for line in lines)
    invoice.net_total, invoice.tax_total, invoice.gross_total = totals.net_total, totals.tax_total, totals.gross_total
    invoice.prepaid_total, invoice.amount_due = prepaid, totals.gross_total - prepaid
    invoice.tax_groups = [{"category": g.category, "rate": str(g.rate), "net": str(g.net), "tax": str(g.tax)}
                          for g in totals.tax_groups]
    invoice.seller, invoice.buyer = seller, buyer
    what = "credit note" if invoice.kind == "credit_note" else "invoice"
    change_state(session, invoice, "issued", TraceEntry(
        "invoice_issued", who.username,
        f"{what} {number} issued ({formatting.money(totals.gross_total, invoice.currency, 'en')})",
        details={"params": {"variant": invoice.kind, "invoice": number,
                            "total": money_param(totals.gross_total, invoice.currency)}}))
    if make_einvoice is not None:
        einvoice = make_einvoice(session, invoice, lines)  # ValidationFailed: the rule and the field
        session.flush()  # the invoice row, once: draft to issued
        if keep_file is not None:
            keep_file(session, invoice, einvoice)
    session.flush()
    _book_on_orders(session, invoice, lines, who.username)
    return invoice


def _prepaid(session: Session, invoice: Invoice) -> Decimal:
    """What the down-payment invoices a final invoice deducts came to (EN 16931 BT-113)."""
    ids = session.scalars(select(InvoiceDeduction.down_payment_id).where(InvoiceDeduction.invoice_id == invoice.id))
    return sum((dp.gross_total for dp in session.scalars(select(Invoice).where(Invoice.id.in_(list(ids))))), ZERO)


def _book_on_orders(session: Session, invoice: Invoice, lines: list[InvoiceLine], actor: str) -> None:
    """The orders' lines count what this invoice invoiced (a credit note that reopens delivery gives
    it back), and each order moves to the state that shows."""
    sign = Decimal(1)
    if invoice.kind == "credit_note":
        if not invoice.reopens_delivery:
            return
        sign = Decimal(-1)
    touched: set[int] = set()
    for line in lines:
        if line.order_line_id is None:
            continue
        order_line = session.get(OrderLine, line.order_line_id)
        order_line.invoiced_quantity += sign * line.quantity
        if order_line.billing_interval and sign > 0 and line.service_to:
            order_line.billed_until = max(order_line.billed_until or line.service_to, line.service_to)
        touched.add(order_line.order_id)
    for order_id in sorted(touched):
        order = session.get(Order, order_id, with_for_update=True)
        refresh_order_state(session, order, actor, f"{invoice.kind.replace('_', ' ')} {invoice.number}")

