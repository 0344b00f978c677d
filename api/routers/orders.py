"""Orders made from accepted offers, and their deliveries."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.invoice_schemas import (
    BillingIn,
    DeliveryIn,
    DeliveryLineOut,
    DeliveryOut,
    DownPaymentRequest,
    InvoiceOut,
    MilestoneOut,
)
from api.offer_schemas import OrderOut, OrderSummary
from api.params import OptionalId, RecordId, paging
from api.routers.invoices import invoice_out
from api.schemas import Page, page_out
from domain.invoicing import milestones
from domain.orders import billing, deliveries
from domain.orders.queries import list_orders, order_lines, readable_order

router = APIRouter(prefix="/orders", tags=["orders"])
OrderPage = paging("-created_at", "id", "number", "created_at", "gross_total", "status")


@router.get("", response_model=Page[OrderSummary])
def list_(session: SessionDep, user: CurrentUser, page: OrderPage, customer_id: OptionalId = None,
          status: Literal["confirmed", "partly_delivered", "delivered", "partly_invoiced", "invoiced", "closed",
                          "cancelled"] | None = None):
    return page_out(OrderSummary, list_orders(session, user, page, customer_id, status), page)


@router.get("/{order_id}", response_model=OrderOut)
def get(order_id: RecordId, session: SessionDep, user: CurrentUser):
    order = readable_order(session, user, order_id)
    return OrderOut.model_validate({**{c.key: getattr(order, c.key) for c in order.__table__.columns},
                                    "lines": order_lines(session, order.id)}, from_attributes=True)


def delivery_out(delivery, lines) -> DeliveryOut:
    return DeliveryOut(id=delivery.id, order_id=delivery.order_id, note=delivery.note,
                       created_at=delivery.created_at, created_by=delivery.created_by,
                       lines=[DeliveryLineOut.model_validate(line) for line in lines])


@router.post("/{order_id}/deliveries", response_model=DeliveryOut, status_code=201,
             summary="Record goods delivered or services performed, per line, on a day or over a period")
def deliver(order_id: RecordId, body: DeliveryIn, session: SessionDep, user: CurrentUser):
    delivery = deliveries.record_delivery(session, user, order_id, [line.model_dump() for line in body.lines],
                                          body.note)
    return delivery_out(delivery, deliveries.deliveries_of(session, order_id, delivery.id)[0][1])


@router.get("/{order_id}/deliveries", response_model=Page[DeliveryOut], summary="The order's deliveries, first to last")
def list_deliveries(order_id: RecordId, session: SessionDep, user: CurrentUser):
    readable_order(session, user, order_id)
    found = [delivery_out(delivery, lines) for delivery, lines in deliveries.deliveries_of(session, order_id)]
    return Page(items=found, total=len(found), limit=max(len(found), 1), offset=0)


@router.put("/{order_id}/billing", response_model=list[MilestoneOut],
            summary="How the order is invoiced: each delivery, once complete, or by milestones (down payments, then "
                    "a final invoice deducting them); answers the milestones")
def set_billing(order_id: RecordId, body: BillingIn, session: SessionDep, user: CurrentUser):
    billing.set_billing(session, user, order_id, body.billing_plan, [m.model_dump() for m in body.milestones],
                        body.customer_order_reference)
    return [MilestoneOut.model_validate(m) for m in billing.milestones_of(session, order_id)]


@router.post("/{order_id}/down-payments", response_model=InvoiceOut, status_code=201,
             summary="A draft down-payment invoice (Abschlagsrechnung) for one milestone of an order billed by "
                     "milestones")
def down_payment(order_id: RecordId, body: DownPaymentRequest, session: SessionDep, user: CurrentUser):
    return invoice_out(session, milestones.draft_down_payment(session, user, order_id, body.milestone_id))
