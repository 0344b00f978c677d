"""Orders and their lines, copied from the accepted offer (its lines and terms stay as agreed)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move
from kernel.module import NumberSeries

ORDER_STATUSES = ("open", "fulfilled", "invoiced", "cancelled")
# Made open from the accepted offer; delivery and invoicing (not built yet) move it on.
ORDER_LIFECYCLE = Lifecycle(
    record="order", states=ORDER_STATUSES, initial="open", transitions=(
        *move("open", "fulfilled", "fulfil"),
        *move("fulfilled", "invoiced", "invoice"),
        *move("open", "cancelled", "cancel"),
    ))

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
