"""Request and response bodies of offers and orders (amounts are decimal strings, never floats)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from api.schemas import not_nullable
from api.versioning import Version
from domain.fields import Strict
from domain.offers.inputs import OfferIn, OfferLineIn, OfferTermsIn  # noqa: F401 - request bodies

# Prices, sums and percentages have two decimals (prices are rounded to cents when looked up): shown
# so whatever scale the database keeps.
Money = Annotated[Decimal, PlainSerializer(lambda v: str(v.quantize(Decimal("0.01"))), return_type=str)]
Percent = Money
OfferStatus = Literal["draft", "in_approval", "rework", "approved", "sent", "accepted", "declined", "expired",
                      "superseded", "cancelled"]


class Versioned(Strict):
    version: Version = None


OFFER_NOT_NULL = {"title", "valid_until", "header_discount_percent", "payment_days"}


class OfferPatch(OfferTermsIn):
    model_config = ConfigDict(json_schema_extra=not_nullable(OFFER_NOT_NULL))
    version: Version = None


class OfferLinesIn(Versioned):
    model_config = ConfigDict(extra="forbid", strict=True)
    lines: list[OfferLineIn] = Field(max_length=500)


class VersionIn(Versioned):
    model_config = ConfigDict(extra="forbid", strict=True)


class OfferLineOut(BaseModel):
    position: int
    product_id: int
    sku: str
    name: str
    quantity: Decimal
    unit: str
    list_price: Money
    unit_price: Money
    price_rule: str
    discount_percent: Percent
    tax_rate: Percent
    net: Money
    unit_cost: Decimal | None = None
    margin: Money | None = None
    margin_percent: Percent | None = None


class TaxGroupOut(BaseModel):
    rate: Percent
    net: Money
    tax: Money


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    approval_round: int
    level: str
    approver_group: str
    decision: str
    reason: str | None
    content_hash: str
    decided_by: str
    decided_at: datetime
    voided_at: datetime | None
    void_reason: str | None


class OfferSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    label: str
    number: str | None
    revision: int
    status: OfferStatus
    title: str
    customer_id: int
    opportunity_id: int | None
    currency: str
    net_total: Money
    gross_total: Money
    valid_until: date
    created_by: str
    created_at: datetime


class TermsOut(BaseModel):
    """What an offer agrees with the customer and its order carries over."""
    contact_id: int | None
    site_id: int | None
    billing_address_id: int | None
    delivery_address_id: int | None
    language: str
    payment_days: int
    skonto_percent: Percent | None
    skonto_days: int | None
    delivery_terms: str | None
    tax_treatment: str
    header_discount_percent: Percent


class ApprovalNeedOut(BaseModel):
    """What the approval rules (bpmn/offer_approval_level.dmn) asked for in the latest round."""
    level: str = Field(description="none, team_lead, sales_manager or managing_director")
    rule: str | None = Field(description="the rule's own words, e.g. 'net total above 25,000'")
    rule_kind: Literal["amount", "margin", "credit_limit", "discount", "payment_terms", "other"] | None = Field(
        description="what the rule looks at; null when no approval is needed")
    why: str
    steps: list[str] = Field(description="the levels that approve in turn, lowest first")
    round: int
    decided_on: dict[str, str | bool | None] = Field(
        description="the facts the rules decided on: net total, margin %, largest line discount %, header "
                    "discount %, over the credit limit, terms better than the customer's")


class OfferOut(OfferSummary, TermsOut):
    previous_id: int | None
    intro_text: str | None
    closing_text: str | None
    tax_total: Money
    content_hash: str | None
    changed_by: str
    instance_id: int | None
    approval_round: int
    pdf_document_id: int | None
    submitted_at: datetime | None
    sent_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    answer_note: str | None
    version: int
    lines: list[OfferLineOut]
    tax_groups: list[TaxGroupOut]
    cost_total: Money | None
    margin: Money | None
    margin_percent: Percent | None
    approvals: list[ApprovalOut]
    approval_need: ApprovalNeedOut | None = Field(description="what the rules asked for; null before submission")


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int
    product_id: int
    sku: str
    name: str
    description: str | None
    unit: str
    quantity: Decimal
    unit_price: Money
    discount_percent: Percent
    tax_rate: Percent
    net: Money
    goods: bool = Field(description="goods delivered; false: a service performed")
    billing_interval: str | None = Field(description="month, quarter or year: a recurring line, invoiced per period")
    delivered_quantity: Decimal
    invoiced_quantity: Decimal


class OrderSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    offer_id: int
    customer_id: int
    status: str
    title: str
    currency: str
    net_total: Money
    tax_total: Money
    gross_total: Money
    accepted_via: str
    created_at: datetime


class OrderOut(OrderSummary, TermsOut):
    opportunity_id: int | None
    billing_plan: str = Field(description="on_delivery, on_completion or milestones")
    customer_order_reference: str | None
    lines: list[OrderLineOut]

