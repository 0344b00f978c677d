"""Deliveries recorded as a user task, where a process asks for them: a model's user task with the
guard `orders.delivery`, the completion `orders.record_delivery` and the form
`order_delivery.schema.json` records what was delivered or performed for the order in the process
data (`order_id`), as `POST /orders/{id}/deliveries` does. Authority is checked on claim and again
on completion: the order's salesperson, accounting or a manager."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from domain.orders.deliveries import deliverable_order, record_delivery
from kernel.errors import ValidationFailed
from kernel.principal import Principal


def _order_id(variables: dict) -> int:
    order_id = variables.get("order_id")
    if not isinstance(order_id, int):
        raise ValidationFailed("this task names no order", [{"field": "order_id", "message": "missing in the "
                                                                                             "process data"}])
    return order_id


def guard_delivery(session: Session, who: Principal, task, variables: dict, action: str, data: dict | None) -> None:
    deliverable_order(session, who, _order_id(variables))


def record_delivery_task(session: Session, who: Principal, task, variables: dict, data: dict) -> dict:
    lines, errors = [], []
    for index, item in enumerate(data["lines"]):
        try:
            lines.append({"order_line_id": item["order_line_id"], "quantity": Decimal(item["quantity"]),
                          **{key: date.fromisoformat(item[key]) for key in ("service_from", "service_to")
                             if item.get(key)}})
        except (InvalidOperation, ValueError) as exc:
            errors.append({"field": f"lines.{index}", "message": str(exc)})
    if errors:
        raise ValidationFailed("the delivery is not valid", errors)
    delivery = record_delivery(session, who, _order_id(variables), lines, (data.get("note") or "").strip() or None)
    return {"delivery_id": delivery.id}
