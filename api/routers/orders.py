"""Orders made from accepted offers."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.offer_schemas import OrderOut, OrderSummary
from api.params import OptionalId, RecordId, paging
from api.schemas import Page, page_out
from domain.orders.queries import list_orders, order_lines, readable_order

router = APIRouter(prefix="/orders", tags=["orders"])
OrderPage = paging("-created_at", "id", "number", "created_at", "gross_total", "status")


@router.get("", response_model=Page[OrderSummary])
def list_(session: SessionDep, user: CurrentUser, page: OrderPage, customer_id: OptionalId = None,
          status: Literal["open", "fulfilled", "invoiced", "cancelled"] | None = None):
    return page_out(OrderSummary, list_orders(session, user, page, customer_id, status), page)


@router.get("/{order_id}", response_model=OrderOut)
def get(order_id: RecordId, session: SessionDep, user: CurrentUser):
    order = readable_order(session, user, order_id)
    return OrderOut.model_validate({**{c.key: getattr(order, c.key) for c in order.__table__.columns},
                                    "lines": order_lines(session, order.id)}, from_attributes=True)
