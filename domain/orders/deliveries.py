"""Deliveries: goods delivered or services performed for an order, per line, on a day or over a
period. What an invoice prints as the date of supply (§14 (4) Nr. 6 UStG) comes from here."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import may_edit, readable_customer
from domain.orders.models import Delivery, DeliveryLine, Order, OrderLine
from domain.orders.progress import refresh_order_state
from kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kernel.principal import Principal

DELIVERY_ROLES = ("accounting", "manager")  # besides whoever may edit the customer (its salesperson)


def deliverable_order(session: Session, who: Principal, order_id: int, lock: bool = False) -> Order:
    """The order, if this user may record deliveries for it (its customer's salesperson, accounting,
    managers); NotFound when they may not even read it."""
    statement = select(Order).where(Order.id == order_id)
    order = session.scalar(statement.with_for_update() if lock else statement)
    if order is None or who.is_portal:
        raise NotFound(f"order {order_id} not found")
    customer = readable_customer(session, who, order.customer_id, ("order", order_id))
    if not (who.has_any(*DELIVERY_ROLES) or may_edit(who, customer)):
        raise Forbidden("deliveries of this order are recorded by its salesperson, accounting or a manager")
    return order


def record_delivery(session: Session, who: Principal, order_id: int, lines: list[dict], note: str | None = None,
                    today: date | None = None) -> Delivery:
    """Record what was delivered or performed: `lines` of {order_line_id, quantity, service_from,
    service_to}; no line may deliver more than is still open on it, a period ends after it begins."""
    order = deliverable_order(session, who, order_id, lock=True)
    if order.status in ("cancelled", "closed"):
        raise Conflict(f"order {order.number} is {order.status}: nothing more is delivered on it")
    order_lines = {line.id: line for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))}
    errors = _check_lines(order_lines, lines)
    if errors:
        raise ValidationFailed("the delivery is not valid", errors)
    delivery = Delivery(order_id=order.id, note=note, created_by=who.username)
    session.add(delivery)
    session.flush()
    for item in lines:
        line = order_lines[item["order_line_id"]]
        line.delivered_quantity += item["quantity"]
        session.add(DeliveryLine(delivery_id=delivery.id, order_line_id=line.id, quantity=item["quantity"],
                                 service_from=item.get("service_from") or today or date.today(),
                                 service_to=item.get("service_to")))
    session.flush()
    refresh_order_state(session, order, who.username, f"delivery {delivery.id} recorded")
    return delivery


def _check_lines(order_lines: dict[int, OrderLine], lines: list[dict]) -> list[dict]:
    errors: list[dict] = []
    seen: set[int] = set()
    if not lines:
        errors.append({"field": "lines", "message": "name at least one line of the order"})
    for index, item in enumerate(lines):
        where = f"lines.{index}"
        line = order_lines.get(item["order_line_id"])
        if line is None:
            errors.append({"field": f"{where}.order_line_id", "message": "not a line of this order"})
            continue
        if line.id in seen:
            errors.append({"field": f"{where}.order_line_id", "message": "this line is named twice"})
        seen.add(line.id)
        if line.billing_interval:
            errors.append({"field": f"{where}.order_line_id",
                           "message": f"a recurring line ({line.billing_interval}ly) is invoiced per period, "
                                      f"not delivered"})
        quantity: Decimal = item["quantity"]
        open_quantity = line.quantity - line.delivered_quantity
        if quantity <= 0:
            errors.append({"field": f"{where}.quantity", "message": "must be more than 0"})
        elif quantity > open_quantity:
            errors.append({"field": f"{where}.quantity",
                           "message": f"only {open_quantity.normalize():f} of {line.quantity.normalize():f} "
                                      f"{line.unit} are still open on this line"})
        start, end = item.get("service_from"), item.get("service_to")
        if end is not None and start is None:
            errors.append({"field": f"{where}.service_from", "message": "a period needs its first day"})
        elif end is not None and end < start:
            errors.append({"field": f"{where}.service_to", "message": "the period ends before it begins"})
    return errors


def deliveries_of(session: Session, order_id: int,
                  delivery_id: int | None = None) -> list[tuple[Delivery, list[DeliveryLine]]]:
    statement = select(Delivery).where(Delivery.order_id == order_id).order_by(Delivery.id)
    if delivery_id is not None:
        statement = statement.where(Delivery.id == delivery_id)
    deliveries = session.scalars(statement).all()
    lines = session.scalars(select(DeliveryLine).where(DeliveryLine.delivery_id.in_([d.id for d in deliveries]))
                            .order_by(DeliveryLine.id)).all()
    return [(d, [line for line in lines if line.delivery_id == d.id]) for d in deliveries]
