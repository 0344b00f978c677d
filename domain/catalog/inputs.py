"""What a product must look like when it comes in (form or import)."""
from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from domain.fields import Price, Sku, Strict, TaxRate, Text, Visibility


class ProductIn(Strict):
    sku: Sku
    name_de: Text = Field(min_length=1, max_length=200)
    name_en: Text | None = Field(default=None, max_length=200)
    description_de: Text | None = Field(default=None, max_length=20_000)
    description_en: Text | None = Field(default=None, max_length=20_000)
    unit: Text = Field(default="piece", min_length=1, max_length=20)
    tax_rate: TaxRate = Decimal("19")
    cost: Price | None = None
    sla_text: Text | None = Field(default=None, max_length=5_000)
    visibility: Visibility = "prices_after_login"
    active: bool = True
