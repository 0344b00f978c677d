"""Where an order stands follows from its lines: what was delivered and what was invoiced.

Invoiced wins over delivered (an order partly invoiced may be partly delivered too); an order whose
lines are all invoiced is `invoiced`, and `closed` once nothing is left open on its invoices (the
payments module says so). A recurring line counts as delivered and invoiced as far as it was billed."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.lifecycle import TraceEntry, change_state
from domain.orders.models import Order, OrderLine

ZERO = Decimal(0)


def progress_state(lines: Iterable[tuple[Decimal, Decimal, Decimal]]) -> str:
    """The state of an order from (ordered, delivered, invoiced) per line; pure."""
    lines = list(lines)
    if lines and all(invoiced >= ordered for ordered, _, invoiced in lines):
        return "invoiced"
    if any(invoiced > ZERO for _, _, invoiced in lines):
        return "partly_invoiced"
    if lines and all(delivered >= ordered for ordered, delivered, _ in lines):
        return "delivered"
    if any(delivered > ZERO for _, delivered, _ in lines):
        return "partly_delivered"
    return "confirmed"


def _figures(line: OrderLine) -> tuple[Decimal, Decimal, Decimal]:
    """(ordered, delivered, invoiced) of a line; a recurring line counts as delivered and invoiced
    once it was billed for a period (it never completes: it recurs)."""
    if line.billing_interval:
        billed = Decimal(1) if line.invoiced_quantity > ZERO else ZERO
        return Decimal(1), billed, billed
    return line.quantity, line.delivered_quantity, line.invoiced_quantity


def refresh_order_state(session: Session, order: Order, actor: str, reason: str) -> str:
    """Move the order to the state its lines show (no move when it is there already, or closed or
    cancelled and nothing changed that reopens it)."""
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    state = progress_state(_figures(line) for line in lines)
    if order.status == "cancelled" or (order.status == "closed" and state == "invoiced") or state == order.status:
        return order.status
    change_state(session, order, state, TraceEntry("order_progressed", actor, f"order {order.number}: {reason}",
                                                   ref=("order", order.id),
                                                   details={"params": {"order": order.number, "state": state,
                                                                       "reason": reason}}))
    return state
