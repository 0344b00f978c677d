"""Request and response bodies of deliveries, invoices and credit notes (amounts are decimal strings)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from api.offer_schemas import Money, Percent
from api.params import MAX_ID
from api.schemas import not_nullable
from api.versioning import Version
from domain.fields import Day, Price, Quantity, Rate, Strict, Text
from domain.fields import Percent as PercentIn

InvoiceStatus = Literal["draft", "released", "issued"]
InvoiceKind = Literal["invoice", "down_payment", "credit_note"]


class DeliveryLineIn(Strict):
    order_line_id: int = Field(ge=1, le=MAX_ID)
    quantity: Quantity
    service_from: Day | None = Field(None, description="the day delivered or performed, or a period's first day; "
                                                       "default: today")
    service_to: Day | None = Field(None, description="a period's last day (services performed over a period)")


class DeliveryIn(Strict):
    lines: list[DeliveryLineIn] = Field(min_length=1, max_length=500)
    note: Text | None = Field(None, max_length=2000)


class DeliveryLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    order_line_id: int
    quantity: Decimal
    service_from: date
    service_to: date | None


class DeliveryOut(BaseModel):
    id: int
    order_id: int
    note: str | None
    created_at: datetime
    created_by: str
    lines: list[DeliveryLineOut]


class DraftRequest(Strict):
    # the document says what the validator below does: exactly one of the two
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": [name], "properties": {name: {"type": "integer"}}} for name in ("order_id", "customer_id")]})
    order_id: int | None = Field(None, ge=1, le=MAX_ID, description="what this order delivered and is not invoiced")
    customer_id: int | None = Field(None, ge=1, le=MAX_ID, description="the same for every order of the customer "
                                                                       "(one invoice for all if it takes collective "
                                                                       "invoices)")

    @model_validator(mode="after")
    def _one_of_them(self) -> DraftRequest:
        if (self.order_id is None) == (self.customer_id is None):
            raise PydanticCustomError("one_of", "send order_id or customer_id, one of them")
        return self


class DownPaymentRequest(Strict):
    milestone_id: int = Field(ge=1, le=MAX_ID, description="the order's milestone this down payment bills")


class MilestoneIn(Strict):
    label: Text = Field(min_length=1, max_length=200, description="e.g. 'bei Auftrag', 'nach Abnahme Phase 1'")
    percent: PercentIn = Field(description="share of the order's net per tax rate")


class BillingIn(Strict):
    billing_plan: Literal["on_delivery", "on_completion", "milestones"]
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=20)
    customer_order_reference: Text | None = Field(None, max_length=100, description="the customer's order number")


class MilestoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int
    label: str
    percent: Percent


class DraftLineChange(Strict):
    id: int = Field(ge=1, le=MAX_ID)
    name: Text | None = Field(None, min_length=1, max_length=200)
    description: Text | None = Field(None, max_length=4000)
    quantity: Quantity | None = None
    unit_price: Price | None = Field(None, description="a price changed by hand is marked for the approval")


DRAFT_NOT_NULL = {"payment_days", "header_discount_percent"}


class DraftPatch(Strict):
    model_config = ConfigDict(json_schema_extra=not_nullable(DRAFT_NOT_NULL))
    note: Text | None = Field(None, max_length=2000)
    payment_days: int | None = Field(None, ge=0, le=365)
    skonto_percent: PercentIn | None = None
    skonto_days: int | None = Field(None, ge=1, le=365)
    header_discount_percent: Rate | None = None
    buyer_reference: Text | None = Field(None, max_length=100, description="BT-10: the Leitweg-ID of public customers")
    customer_order_reference: Text | None = Field(None, max_length=100)
    lines: list[DraftLineChange] | None = Field(None, max_length=500)
    version: Version = None


class CreditLineIn(Strict):
    invoice_line_id: int = Field(ge=1, le=MAX_ID)
    quantity: Quantity
    unit_price: Price | None = Field(None, description="what is credited per unit (a price reduction); default: "
                                                       "the invoiced price")


class CreditNoteIn(Strict):
    reason: Text = Field(min_length=1, max_length=2000, description="printed on the credit note")
    lines: list[CreditLineIn] | None = Field(None, max_length=500, description="default: all not yet credited")
    reopens_delivery: bool = Field(False, description="cancel: what it credits may be invoiced anew")


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int
    order_line_id: int | None
    delivery_line_id: int | None
    credited_line_id: int | None
    product_id: int | None
    sku: str | None
    name: str
    description: str | None
    unit: str
    quantity: Decimal
    unit_price: Money
    discount_percent: Percent
    tax_rate: Percent
    tax_category: str = Field(description="EN 16931: S taxed, AE reverse charge, K intra-community supply, "
                                          "G export, O not taxable here, Z zero rated")
    net: Money
    service_from: date | None
    service_to: date | None
    price_changed: bool | None = Field(description="its price changed by hand (not shown to portal users)")


class TaxGroupOut(BaseModel):
    category: str
    rate: Money
    net: Money
    tax: Money


class InvoiceSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: InvoiceKind
    number: str | None = Field(description="given at issue: INV-<year>-<seq>, credit notes CN-<year>-<seq>")
    status: InvoiceStatus
    customer_id: int
    order_id: int | None
    corrects_id: int | None = Field(description="a credit note's invoice")
    currency: str
    issue_date: date | None
    due_date: date | None
    net_total: Money
    tax_total: Money
    gross_total: Money
    amount_due: Money
    created_at: datetime


class InvoiceOut(InvoiceSummary):
    contact_id: int | None
    billing_address_id: int | None
    language: str
    tax_treatment: str
    einvoice_format: str
    buyer_reference: str | None
    customer_order_reference: str | None
    payment_days: int
    skonto_percent: Percent | None
    skonto_days: int | None
    skonto_until: date | None
    skonto_amount: Money | None
    header_discount_percent: Percent
    note: str | None
    manual_prices: bool | None = Field(description="a price changed by hand (not shown to portal users)")
    reopens_delivery: bool
    service_from: date | None
    service_to: date | None
    prepaid_total: Money
    tax_groups: list[TaxGroupOut]
    seller: dict | None = Field(description="as printed, fixed at issue")
    buyer: dict | None = Field(description="as printed, fixed at issue")
    issued_at: datetime | None
    issued_by: str | None = Field(description="who issued it (not shown to portal users)")
    released_by: str | None = Field(description="who released it for issue (not shown to portal users)")
    instance_id: int | None = Field(description="its order-to-invoice process, once released (not shown to "
                                                "portal users)")
    created_by: str | None = Field(description="who drafted it (not shown to portal users)")
    version: int
    lines: list[InvoiceLineOut]
