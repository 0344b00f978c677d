"""Products and services, price lists and customers' special conditions."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base

VISIBILITIES = ("public", "prices_after_login", "internal")  # shop: info for all, prices after login, staff only


class Product(Base):
    __tablename__ = "product"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description_de: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20), default="piece")  # piece, hour, day, month, licence …
    tax_rate: Mapped[Decimal]  # percent, e.g. 19.0000
    kind: Mapped[str] = mapped_column(String(10), default="service")  # service | goods
    billing_interval: Mapped[str | None] = mapped_column(String(10))  # month | quarter | year: a subscription
    cost: Mapped[Decimal | None]  # per unit, for margins; never shown to customers
    sla_text: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(20), default="prices_after_login")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # optimistic locking: a change names the version it read
    __mapper_args__ = {"version_id_col": version}


class PriceList(Base):
    __tablename__ = "price_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # for customers without a price list
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PriceListItem(Base):
    """A product's price in a price list for a period; `tiers` lists {min_quantity, unit_price} as text."""
    __tablename__ = "price_list_item"
    __table_args__ = (Index("ix_price_list_item_lookup", "price_list_id", "product_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    tiers: Mapped[list]
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]


class SpecialCondition(Base):
    """A customer's special price (fixed_price) or discount (discount_percent), for one product or all."""
    __tablename__ = "special_condition"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal]
    currency: Mapped[str | None] = mapped_column(String(3))
    min_quantity: Mapped[Decimal] = mapped_column(default=Decimal(0))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["Product", "PriceList", "PriceListItem", "SpecialCondition", "VISIBILITIES"]
