"""What the orders module registers at start-up: orders take documents."""
from __future__ import annotations

from domain.orders.models import Order


def register(kontor) -> None:
    kontor.document_owners.register("order", Order)
