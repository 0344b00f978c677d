"""Changing and deleting drafts. A draft's lines keep what the order agreed unless someone changes a
price by hand, which is marked on the line and the invoice (the approval before issue asks about it)."""
from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from domain.customers.rules import check_payment_terms
from domain.invoicing.access import invoice_for_change
from domain.invoicing.issuing import lines_of
from domain.invoicing.models import Invoice, InvoiceDeduction, InvoiceLine
from domain.orders.models import OrderLine
from kernel.clock import utcnow
from kernel.errors import Conflict, ExpectedVersion, ValidationFailed, require_version
from kernel.money import line_net
from kernel.principal import Principal

HEADER_FIELDS = ("note", "payment_days", "skonto_percent", "skonto_days", "header_discount_percent",
                 "buyer_reference", "customer_order_reference")
LINE_FIELDS = ("name", "description", "quantity", "unit_price")


def draft_for_change(session: Session, who: Principal, invoice_id: int, version: ExpectedVersion) -> Invoice:
    invoice = invoice_for_change(session, who, invoice_id)
    if invoice.status != "draft":
        raise Conflict(f"invoice {invoice.label} is issued: it cannot change; correct it by a credit note")
    require_version(f"invoice {invoice.label}", invoice.version, version)
    return invoice


def edit_draft(session: Session, who: Principal, invoice_id: int, changes: dict, version: ExpectedVersion) -> Invoice:
    invoice = draft_for_change(session, who, invoice_id, version)
    line_changes = changes.pop("lines", None) or []
    for name in HEADER_FIELDS:
        if name in changes:
            setattr(invoice, name, changes[name])
    errors = check_payment_terms(invoice.payment_days, invoice.skonto_percent, invoice.skonto_days)
    lines = {line.id: line for line in lines_of(session, invoice.id)}
    for index, item in enumerate(line_changes):
        line = lines.get(item["id"])
        if line is None:
            errors.append({"field": f"lines.{index}.id", "message": "not a line of this draft"})
            continue
        for name in LINE_FIELDS:
            if item.get(name) is not None:
                setattr(line, name, item[name])
        if item.get("unit_price") is not None and line.order_line_id is not None:
            agreed = session.get(OrderLine, line.order_line_id).unit_price
            line.price_changed = item["unit_price"] != agreed
        line.net = line_net(line.quantity, line.unit_price, line.discount_percent)
    if errors:
        raise ValidationFailed("the draft invoice is not valid", errors)
    invoice.manual_prices = any(line.price_changed for line in lines.values())
    invoice.updated_at = utcnow()  # the draft's version moves with every change, of its lines too
    session.flush()
    return invoice


def delete_draft(session: Session, who: Principal, invoice_id: int, version: ExpectedVersion) -> None:
    """A draft is deleted with its lines: it never had a number, so nothing is missing from a series;
    what it held of deliveries may be invoiced again."""
    invoice = draft_for_change(session, who, invoice_id, version)
    session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    session.execute(delete(InvoiceDeduction).where(InvoiceDeduction.invoice_id == invoice.id))
    session.delete(invoice)
    session.flush()


