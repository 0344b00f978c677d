"""Request and response bodies of the catalog."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from api.customer_schemas import AmountOut, Currency, Strict
from api.schemas import Text, not_nullable
from api.versioning import Version
from domain.catalog.inputs import BillingInterval, ProductIn, ProductKind  # noqa: F401
from domain.fields import Day, MinQuantity, Price, Quantity, Sku, TaxRate, Visibility  # noqa: F401

# Quantities leave the API as text without trailing zeros ("2.5", "10").
QuantityOut = Annotated[Decimal, PlainSerializer(lambda v: format(v.normalize(), "f"), return_type=str)]



PRODUCT_NOT_NULL = {"sku", "name_de", "unit", "tax_rate", "visibility", "active", "kind"}


class ProductPatch(Strict):
    model_config = ConfigDict(json_schema_extra=not_nullable(PRODUCT_NOT_NULL))
    version: Version = None
    sku: Sku | None = None
    name_de: Text | None = Field(default=None, min_length=1, max_length=200)
    name_en: Text | None = Field(default=None, max_length=200)
    description_de: Text | None = Field(default=None, max_length=20_000)
    description_en: Text | None = Field(default=None, max_length=20_000)
    unit: Text | None = Field(default=None, min_length=1, max_length=20)
    tax_rate: TaxRate | None = None
    kind: ProductKind | None = None
    billing_interval: BillingInterval | None = None
    cost: Price | None = None
    sla_text: Text | None = Field(default=None, max_length=5_000)
    visibility: Visibility | None = None
    active: bool | None = None




class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sku: str
    name_de: str
    name_en: str | None
    description_de: str | None
    description_en: str | None
    unit: str
    tax_rate: AmountOut
    kind: str
    billing_interval: str | None
    cost: AmountOut | None = Field(description="staff only; null for portal users")
    sla_text: str | None
    visibility: str
    active: bool
    version: int


class PriceListIn(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
    name: Text = Field(min_length=1, max_length=200)
    currency: Currency = "EUR"
    is_default: bool = False


class PriceListOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    currency: str
    is_default: bool


class TierIn(Strict):
    min_quantity: MinQuantity
    unit_price: Price


class PriceListItemIn(Strict):
    product_id: int = Field(ge=1, le=2**31 - 1)
    tiers: list[TierIn] = Field(min_length=1, max_length=20)
    valid_from: Day | None = None
    valid_to: Day | None = None


class TierOut(BaseModel):
    min_quantity: str
    unit_price: str


class PriceListItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    price_list_id: int
    product_id: int
    tiers: list[TierOut]
    valid_from: date | None
    valid_to: date | None


class SpecialConditionIn(Strict):
    product_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="null: all products")
    kind: Literal["fixed_price", "discount_percent"]
    value: Price
    currency: Currency | None = None
    min_quantity: MinQuantity = Decimal(0)
    valid_from: Day | None = None
    valid_to: Day | None = None
    note: Text | None = Field(default=None, max_length=300)


class SpecialConditionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    product_id: int | None
    kind: str
    value: AmountOut
    currency: str | None
    min_quantity: QuantityOut
    valid_from: date | None
    valid_to: date | None
    note: str | None = Field(description="internal: empty for portal users")
    created_by: str | None = Field(description="internal: empty for portal users")


class PriceOut(BaseModel):
    customer_id: int
    product_id: int
    quantity: str
    on: date
    price_list: str
    currency: str
    list_price: AmountOut
    unit_price: AmountOut
    discount_percent: AmountOut
    rule: str
