"""Reading orders: staff see the orders of customers they may read."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import readable_record, require_staff_reader
from domain.orders.models import Order, OrderLine
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal

ORDER_SORTS = {"id": Order.id, "number": Order.number, "created_at": Order.created_at,
               "gross_total": Order.gross_total, "status": Order.status}


def readable_order(session: Session, who: Principal, order_id: int) -> Order:
    return readable_record(session, who, Order, order_id, "order")


def order_lines(session: Session, order_id: int) -> list[OrderLine]:
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                .order_by(OrderLine.position)))


def list_orders(session: Session, who: Principal, page: PageRequest, customer_id: int | None = None,
                status: str | None = None) -> tuple[list[Order], int]:
    require_staff_reader(who, "orders")
    statement = select(Order)
    if customer_id is not None:
        statement = statement.where(Order.customer_id == customer_id)
    if status is not None:
        statement = statement.where(Order.status == status)
    return page_of(session, statement, page, ORDER_SORTS, Order.id)
