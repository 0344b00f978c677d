"""Changing and deleting drafts. A draft's lines keep what the order agreed unless someone changes a
price by hand, which is marked on the line and the invoice (the approval before issue asks about it).
A line never bills more than was delivered and is not yet invoiced; a line without an agreed price
(a down payment) or a recurring period changed by hand is marked as a manual change too; a credit
note's line never credits more than is left on the invoice's line, nor more per unit. Whoever
changes a draft is kept as one of its editors: four eyes keeps them from approving it."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete
from sqlalchemy.orm import Session

from domain.customers.rules import check_payment_terms
from domain.invoicing.access import invoice_for_change
from domain.invoicing.credit_notes import recheck_credit_note
from domain.invoicing.drafts import billed_per_delivery_line
from domain.invoicing.issuing import lines_of
from domain.invoicing.models import Invoice, InvoiceDeduction, InvoiceLine
from domain.orders.models import DeliveryLine, OrderLine
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
        before = (line.quantity, line.unit_price)
        for name in LINE_FIELDS:
            if item.get(name) is not None:
                setattr(line, name, item[name])
        if invoice.kind != "credit_note" and (line.quantity, line.unit_price) != before:
            errors += _check_line(session, invoice, line, before, f"lines.{index}")
        line.net = line_net(line.quantity, line.unit_price, line.discount_percent)
    if invoice.kind == "credit_note" and line_changes:
        session.flush()
        errors += recheck_credit_note(session, invoice, list(lines.values()))
    if errors:
        raise ValidationFailed("the draft invoice is not valid", errors)
    invoice.manual_prices = any(line.price_changed for line in lines.values())
    invoice.editors = sorted({*(invoice.editors or []), who.username})
    invoice.updated_at = utcnow()  # the draft's version moves with every change, of its lines too
    session.flush()
    return invoice


def _check_line(session: Session, invoice: Invoice, line: InvoiceLine, before: tuple[Decimal, Decimal],
                where: str) -> list[dict]:
    """A changed line of an invoice or down payment: at most what its delivery line has that other
    invoices (drafts too) do not hold; a price other than the order's, or any change of a line that
    bills no delivery (a down payment, a subscription period), is a change by hand."""
    order_line = session.get(OrderLine, line.order_line_id) if line.order_line_id else None
    if order_line is None or line.delivery_line_id is None:  # a down payment, a subscription period
        line.price_changed = True
        return []
    line.price_changed = line.unit_price != order_line.unit_price
    if line.quantity <= before[0]:
        return []
    session.flush()  # what the invoices hold of the delivery line, this line's new quantity included
    held = billed_per_delivery_line(session, [line.delivery_line_id]).get(line.delivery_line_id, Decimal(0))
    left = session.get(DeliveryLine, line.delivery_line_id).quantity - (held - line.quantity)
    if line.quantity > left:
        unit = f" {line.unit}" if line.unit else ""
        return [{"field": f"{where}.quantity",
                 "message": f"at most the {left.normalize():f}{unit} delivered and not yet invoiced"}]
    return []


def delete_draft(session: Session, who: Principal, invoice_id: int, version: ExpectedVersion) -> None:
    """A draft is deleted with its lines: it never had a number, so nothing is missing from a series;
    what it held of deliveries may be invoiced again."""
    invoice = draft_for_change(session, who, invoice_id, version)
    session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    session.execute(delete(InvoiceDeduction).where(InvoiceDeduction.invoice_id == invoice.id))
    session.delete(invoice)
    session.flush()


