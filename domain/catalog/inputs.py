"""What a product must look like when it comes in (form or import)."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from domain.fields import Price, Sku, Strict, TaxRate, Text, Visibility

ProductKind = Literal["service", "goods"]
BillingInterval = Literal["month", "quarter", "year"]


class ProductIn(Strict):
    sku: Sku
    name_de: Text = Field(min_length=1, max_length=200)
    name_en: Text | None = Field(default=None, max_length=200)
    description_de: Text | None = Field(default=None, max_length=20_000)
    description_en: Text | None = Field(default=None, max_length=20_000)
    unit: Text = Field(default="piece", min_length=1, max_length=20)
    tax_rate: TaxRate = Decimal("19")
    kind: ProductKind = Field(default="service", description="goods or a service: across EU borders goods are an "
                                                             "intra-community supply, services reverse charge")
    billing_interval: BillingInterval | None = Field(default=None, description="month, quarter or year: a "
                                                                               "subscription, invoiced per period")
    cost: Price | None = None
    sla_text: Text | None = Field(default=None, max_length=5_000)
    visibility: Visibility = "prices_after_login"
    active: bool = True
