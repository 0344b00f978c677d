"""Orders and their lines, copied from the accepted offer (its lines and terms stay as agreed)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move
from kernel.module import NumberSeries

ORDER_STATUSES = ("confirmed", "partly_delivered", "delivered", "partly_invoiced", "invoiced", "closed",
                  "cancelled")
# Made confirmed from the accepted offer. Deliveries and invoices move it on; its state follows from
# what was delivered and invoiced (domain.orders.progress), and a credit note that reopens invoiced
# lines moves it back. Closed: invoiced and nothing left open on its invoices.
_PROGRESS = ("confirmed", "partly_delivered", "delivered", "partly_invoiced", "invoiced")
ORDER_LIFECYCLE = Lifecycle(
    record="order", states=ORDER_STATUSES, initial="confirmed", transitions=(
        *(t for i, source in enumerate(_PROGRESS) for target in _PROGRESS[i + 1:]
          for t in move(source, target, "deliver" if target.endswith("delivered") else "invoice")),
        *(t for i, source in enumerate(_PROGRESS) for target in _PROGRESS[:i]
          for t in move(source, target, "credit")),
        *move("invoiced", "closed", "close"),
        *(t for target in _PROGRESS[:-1] for t in move("closed", target, "credit")),
        *move("confirmed", "cancelled", "cancel"),
    ))
BILLING_PLANS = ("on_delivery", "on_completion", "milestones")
BILLING_INTERVALS = ("month", "quarter", "year")

ORDER_NUMBERS = NumberSeries("order", "ORD-{year}-", 4)


class Order(Base):
    __tablename__ = "sales_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # ORD-2026-0001
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), unique=True)  # one order per accepted offer
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id"))
    status: Mapped[str] = mapped_column(String(20), default=ORDER_LIFECYCLE.initial)
    title: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    billing_address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    delivery_address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    language: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    payment_days: Mapped[int]
    skonto_percent: Mapped[Decimal | None]
    skonto_days: Mapped[int | None]
    delivery_terms: Mapped[str | None] = mapped_column(String(200))
    tax_treatment: Mapped[str] = mapped_column(String(20))
    header_discount_percent: Mapped[Decimal]
    net_total: Mapped[Decimal]
    tax_total: Mapped[Decimal]
    gross_total: Mapped[Decimal]
    accepted_via: Mapped[str] = mapped_column(String(20))  # link | mail | salesperson
    # how it is invoiced: each delivery, once when complete, or by milestones (down payments, then
    # a final invoice deducting them); recurring lines are invoiced per period whatever the plan
    billing_plan: Mapped[str] = mapped_column(String(20), default="on_delivery")
    customer_order_reference: Mapped[str | None] = mapped_column(String(100))  # the customer's order number
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    lifecycle = ORDER_LIFECYCLE


class OrderLine(Base):
    __tablename__ = "sales_order_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    sku: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal]
    unit_price: Mapped[Decimal]
    discount_percent: Mapped[Decimal]
    tax_rate: Mapped[Decimal]
    net: Mapped[Decimal]
    goods: Mapped[bool] = mapped_column(default=False)  # goods delivered, not a service
    billing_interval: Mapped[str | None] = mapped_column(String(10))  # month | quarter | year: recurring
    delivered_quantity: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    invoiced_quantity: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    billed_until: Mapped[date | None]  # a recurring line: the last day invoiced


class Delivery(Base):
    """Goods delivered or services performed for an order, on a day or over a period."""
    __tablename__ = "delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class DeliveryLine(Base):
    """What one delivery did for one order line: the quantity and the day (`service_from` alone) or
    the period (`service_from` to `service_to`) it was delivered or performed in — what the invoice
    prints as the date of supply (§14 (4) Nr. 6 UStG)."""
    __tablename__ = "delivery_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_line.id"), index=True)
    quantity: Mapped[Decimal]
    service_from: Mapped[date]
    service_to: Mapped[date | None]


class OrderMilestone(Base):
    """A down payment of an order billed by milestones: a share of its total, invoiced on request."""
    __tablename__ = "order_milestone"
    __table_args__ = (UniqueConstraint("order_id", "position", name="uq_order_milestone_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))
    percent: Mapped[Decimal]
