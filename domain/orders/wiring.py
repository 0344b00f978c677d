"""What the orders module registers at start-up: orders take documents; a process may ask a person
to record a delivery (the guard and completion of that user task, domain.orders.delivery_task)."""
from __future__ import annotations

from domain.orders import delivery_task
from domain.orders.models import Order


def register(kontor) -> None:
    kontor.document_owners.register("order", Order)
    kontor.runtime.guards.register("orders.delivery", delivery_task.guard_delivery)
    kontor.runtime.completions.register("orders.record_delivery", delivery_task.record_delivery_task)
