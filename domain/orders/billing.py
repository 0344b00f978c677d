"""How an order is invoiced (its billing plan): each delivery as it comes, once when everything is
delivered, or by milestones — down-payment invoices of a share of the order, then a final invoice
that deducts them. Recurring lines (subscriptions from the catalog) are invoiced per period whatever
the plan. Set by accounting, a manager or the customer's salesperson until the first invoice."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domain.orders.deliveries import deliverable_order
from domain.orders.models import BILLING_PLANS, Order, OrderMilestone
from kernel.errors import Conflict, ValidationFailed
from kernel.principal import Principal

HUNDRED = Decimal(100)


def set_billing(session: Session, who: Principal, order_id: int, plan: str, milestones: list[dict],
                customer_order_reference: str | None = None) -> Order:
    order = deliverable_order(session, who, order_id, lock=True)
    if order.status not in ("confirmed", "partly_delivered", "delivered"):
        raise Conflict(f"order {order.number} is {order.status}: its billing plan no longer changes")
    errors = []
    if plan not in BILLING_PLANS:
        errors.append({"field": "billing_plan", "message": f"one of {', '.join(BILLING_PLANS)}"})
    if plan == "milestones":
        total = sum((m["percent"] for m in milestones), Decimal(0))
        if not milestones:
            errors.append({"field": "milestones", "message": "a plan by milestones names at least one"})
        elif total >= HUNDRED:
            errors.append({"field": "milestones", "message": f"the down payments come to {total} %: they must "
                                                             "leave something for the final invoice (below 100 %)"})
    elif milestones:
        errors.append({"field": "milestones", "message": "only a plan by milestones has milestones"})
    if errors:
        raise ValidationFailed("the billing plan is not valid", errors)
    order.billing_plan = plan
    if customer_order_reference is not None:
        order.customer_order_reference = customer_order_reference
    session.execute(delete(OrderMilestone).where(OrderMilestone.order_id == order.id))
    for position, milestone in enumerate(milestones, start=1):
        session.add(OrderMilestone(order_id=order.id, position=position, label=milestone["label"],
                                   percent=milestone["percent"]))
    session.flush()
    return order


def milestones_of(session: Session, order_id: int) -> list[OrderMilestone]:
    return list(session.scalars(select(OrderMilestone).where(OrderMilestone.order_id == order_id)
                                .order_by(OrderMilestone.position)))
