"""What an offer and its lines must look like when they come in (API forms)."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from domain.fields import Day, Quantity, Rate, Strict, Text

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Discount = Rate


class OfferLineIn(Strict):
    product_id: Id
    quantity: Quantity
    discount_percent: Discount = Decimal("0")
    description: Text | None = Field(default=None, max_length=4000, description="default: the product's")


class OfferTermsIn(Strict):
    """The header: every field may be left out (PATCH) and then keeps its value or the default."""
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    contact_id: Id | None = None
    site_id: Id | None = None
    billing_address_id: Id | None = None
    delivery_address_id: Id | None = None
    valid_until: Day | None = None
    header_discount_percent: Discount | None = None
    payment_days: int | None = Field(default=None, ge=0, le=365)
    skonto_percent: Discount | None = None
    skonto_days: int | None = Field(default=None, ge=1, le=365)
    delivery_terms: Text | None = Field(default=None, max_length=200)
    intro_text: Text | None = Field(default=None, max_length=4000)
    closing_text: Text | None = Field(default=None, max_length=4000)


class OfferIn(OfferTermsIn):
    customer_id: Id
    title: Text = Field(min_length=1, max_length=200)
    opportunity_id: Id | None = Field(default=None, description="default: none while it is a draft; its first "
                                                                "submission opens one in phase 'offer'")
    lines: list[OfferLineIn] = Field(default_factory=list, max_length=500)
