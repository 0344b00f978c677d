"""Corrections only by credit note: an issued invoice is never changed or renumbered. A credit note
names the invoice it corrects (its number and date, EN 16931 BT-25/BT-26), credits all of it or some
lines (fewer units, or a lower price per unit), and has its own number series (CN-<year>-<seq>).
Cancelling an invoice is a full credit note that reopens delivery: what it credited may then be
invoiced anew."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.invoicing.access import invoice_for_change
from domain.invoicing.issuing import lines_of
from domain.invoicing.models import Invoice, InvoiceLine
from kernel.db import ExactDecimal  # sums of quantities: exact on both databases
from kernel.errors import Conflict, ValidationFailed
from kernel.money import line_net
from kernel.principal import Principal

ZERO = Decimal(0)
COPIED = ("customer_id", "order_id", "contact_id", "billing_address_id", "language", "currency", "tax_treatment",
          "einvoice_format", "buyer_reference", "customer_order_reference", "payment_days",
          "header_discount_percent")
LINE_COPIED = ("order_line_id", "delivery_line_id", "product_id", "sku", "name", "description", "unit",
               "discount_percent", "tax_rate", "tax_category", "goods", "service_from", "service_to")


def credited_so_far(session: Session, invoice_id: int) -> dict[int, Decimal]:
    """Per line of the invoice, the units its credit notes (drafts included) credit."""
    rows = session.execute(select(InvoiceLine.credited_line_id, func.sum(InvoiceLine.quantity, type_=ExactDecimal()))
                           .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                           .where(Invoice.corrects_id == invoice_id, Invoice.kind == "credit_note")
                           .group_by(InvoiceLine.credited_line_id)).all()
    return {line_id: Decimal(total) for line_id, total in rows}


def draft_credit_note(session: Session, who: Principal, invoice_id: int, reason: str,
                      lines: list[dict] | None = None, reopens_delivery: bool = False) -> Invoice:
    """A draft credit note for the issued invoice: `lines` of {invoice_line_id, quantity, unit_price?}
    (unit_price: what is credited per unit, at most the invoiced price — a price reduction), or None
    for everything not yet credited."""
    original = invoice_for_change(session, who, invoice_id)
    if original.status != "issued" or original.kind == "credit_note":
        raise Conflict(f"only an issued invoice is corrected by a credit note; {original.label} is "
                       f"{'a credit note' if original.kind == 'credit_note' else 'a draft: change it instead'}")
    original_lines = {line.id: line for line in lines_of(session, original.id)}
    credited = credited_so_far(session, original.id)
    wanted = lines if lines is not None else [
        {"invoice_line_id": line.id, "quantity": line.quantity - credited.get(line.id, ZERO)}
        for line in original_lines.values() if line.quantity - credited.get(line.id, ZERO) > ZERO]
    errors = _check(wanted, original_lines, credited, reopens_delivery)
    if not wanted:
        errors.append({"field": "lines", "message": f"everything on {original.number} is credited already"})
    if errors:
        raise ValidationFailed("the credit note is not valid", errors)
    note = Invoice(kind="credit_note", corrects_id=original.id, reopens_delivery=reopens_delivery, note=reason,
                   created_by=who.username, **{name: getattr(original, name) for name in COPIED})
    session.add(note)
    session.flush()
    for position, item in enumerate(wanted, start=1):
        line = original_lines[item["invoice_line_id"]]
        unit_price = item.get("unit_price") or line.unit_price  # what is credited per unit
        session.add(InvoiceLine(invoice_id=note.id, position=position, credited_line_id=line.id,
                                quantity=item["quantity"], unit_price=unit_price,
                                net=line_net(item["quantity"], unit_price, line.discount_percent),
                                **{name: getattr(line, name) for name in LINE_COPIED}))
    session.flush()
    return note


def recheck_credit_note(session: Session, note: Invoice, lines: list[InvoiceLine]) -> list[dict]:
    """A draft credit note's lines after a change, checked as when it was drafted: each credits at most
    what the invoice's line has left beside the other credit notes, at most its price per unit."""
    original_lines = {line.id: line for line in lines_of(session, note.corrects_id)}
    credited = credited_so_far(session, note.corrects_id)  # this note's lines included
    for line in lines:
        credited[line.credited_line_id] = credited.get(line.credited_line_id, ZERO) - line.quantity
    wanted = [{"invoice_line_id": line.credited_line_id, "quantity": line.quantity, "unit_price": line.unit_price}
              for line in sorted(lines, key=lambda li: li.position)]
    return _check(wanted, original_lines, credited, note.reopens_delivery)


def _check(wanted: list[dict], original_lines: dict[int, InvoiceLine], credited: dict[int, Decimal],
           reopens_delivery: bool) -> list[dict]:
    errors = []
    for index, item in enumerate(wanted):
        line = original_lines.get(item["invoice_line_id"])
        if line is None:
            errors.append({"field": f"lines.{index}.invoice_line_id", "message": "not a line of this invoice"})
            continue
        left = line.quantity - credited.get(line.id, ZERO)
        if not ZERO < item["quantity"] <= left:
            errors.append({"field": f"lines.{index}.quantity",
                           "message": f"between 0 and the {left.normalize():f} {line.unit} not yet credited"})
        price = item.get("unit_price")
        if price is not None:
            if not ZERO < price <= line.unit_price:
                errors.append({"field": f"lines.{index}.unit_price",
                               "message": f"credits at most the invoiced unit price {line.unit_price.normalize():f}"})
            elif reopens_delivery and price != line.unit_price:
                errors.append({"field": f"lines.{index}.unit_price",
                               "message": "a credit note that reopens delivery credits whole units at their price"})
    return errors
