"""Request and response bodies of the customer center."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from api.schemas import Text, UtcDatetime, not_nullable
from api.versioning import Version
from domain.customers.inputs import (  # noqa: F401
    AddressIn,
    ContactIn,
    CustomerFields,
    CustomerIn,
    EInvoiceFormat,
    MainAddressIn,
)
from domain.fields import (  # noqa: F401
    Amount,
    Consent,
    Country,
    Currency,
    DocumentKind,
    Email,
    Language,
    Percent,
    Phone,
    Size,
    Status,
    Strict,
    TaxTreatment,
)

# Amounts leave the API as text with two decimals ("5000.00"): exact, and no client parses a float.
AmountOut = Annotated[Decimal, PlainSerializer(lambda v: str(v.quantize(Decimal("0.01"))), return_type=str)]


class AddressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    site_id: int | None
    kind: str
    is_default: bool
    recipient: str | None
    street: str
    street2: str | None
    postal_code: str
    city: str
    country: str


NOT_NULL_FIELDS = {"name", "status", "country", "tax_treatment", "currency", "payment_days", "no_contact", "consumer",
                   "collective_invoice", "einvoice_format"}


class CustomerPatch(Strict):
    """Only the fields sent are changed; `version` is the one you read (409 if it moved on)."""
    model_config = ConfigDict(json_schema_extra=not_nullable(NOT_NULL_FIELDS))
    version: Version = None
    name: Text | None = Field(default=None, min_length=1, max_length=200)
    status: Status | None = None
    industry: Text | None = Field(default=None, max_length=100)
    size: Size | None = None
    country: Country | None = None
    vat_id: Text | None = Field(default=None, max_length=20)
    tax_treatment: TaxTreatment | None = None
    currency: Currency | None = None
    price_list_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    payment_days: int | None = Field(default=None, ge=0, le=365)
    skonto_percent: Percent | None = None
    skonto_days: int | None = Field(default=None, ge=1, le=365)
    delivery_terms: Text | None = Field(default=None, max_length=200)
    credit_limit: Amount | None = None
    no_contact: bool | None = None
    owner: Text | None = Field(default=None, max_length=100)
    preferred_contact_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    preferred_site_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    consumer: bool | None = None
    collective_invoice: bool | None = None
    einvoice_format: EInvoiceFormat | None = None
    buyer_reference: Text | None = Field(default=None, max_length=100)




class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    name: str
    status: str
    industry: str | None
    size: str | None
    country: str
    vat_id: str | None
    tax_treatment: str
    currency: str
    price_list_id: int | None
    payment_days: int
    skonto_percent: AmountOut | None
    skonto_days: int | None
    delivery_terms: str | None
    credit_limit: AmountOut | None = Field(description="internal: empty for portal users")
    no_contact: bool
    owner: str | None = Field(description="the salesperson; internal: empty for portal users")
    preferred_contact_id: int | None
    preferred_site_id: int | None
    merged_into_id: int | None
    consumer: bool
    collective_invoice: bool
    einvoice_format: str
    buyer_reference: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class SiteIn(Strict):
    name: Text = Field(min_length=1, max_length=200)
    vat_id: Text | None = Field(default=None, max_length=20)
    tax_treatment: TaxTreatment | None = None


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    name: str
    vat_id: str | None
    tax_treatment: str | None


CONTACT_NOT_NULL = {"last_name", "language", "marketing_consent", "receives", "no_contact", "active"}


class ContactPatch(Strict):
    model_config = ConfigDict(json_schema_extra=not_nullable(CONTACT_NOT_NULL))
    version: Version = None
    site_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    salutation: Text | None = Field(default=None, max_length=30)
    first_name: Text | None = Field(default=None, max_length=100)
    last_name: Text | None = Field(default=None, min_length=1, max_length=100)
    role: Text | None = Field(default=None, max_length=100)
    email: Email | None = None
    phone: Phone | None = None
    mobile: Phone | None = None
    language: Language | None = None
    marketing_consent: Consent | None = None
    receives: list[DocumentKind] | None = Field(default=None, max_length=3)
    no_contact: bool | None = None
    active: bool | None = None




class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    site_id: int | None
    salutation: str | None
    first_name: str | None
    last_name: str
    full_name: str
    role: str | None
    email: str | None
    phone: str | None
    mobile: str | None
    language: str
    marketing_consent: str
    consent_changed_at: datetime | None
    receives: list[str]
    no_contact: bool
    email_bounced_at: datetime | None = Field(description="mail to the address came back")
    active: bool
    version: int


class DuplicateOut(BaseModel):
    customer_id: int
    number: str
    name: str
    score: int
    reasons: list[str]


class CustomerCreated(CustomerOut):
    possible_duplicates: list[DuplicateOut] = Field(default_factory=list,
                                                    description="customers that may be the same; merge if so")


class MergeIn(Strict):
    merged_id: int = Field(ge=1, le=2**31 - 1, description="this customer moves into the one in the path")


class TraceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    at: datetime
    actor: str
    summary: str
    ref_type: str | None
    ref_id: int | None


class NoteIn(Strict):
    text: Text = Field(min_length=1, max_length=20_000)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    text: str
    author: str
    created_at: datetime


class ActivityIn(Strict):
    customer_id: int = Field(ge=1, le=2**31 - 1)
    kind: Literal["call", "meeting", "task", "milestone"]
    subject: Text = Field(min_length=1, max_length=200)
    notes: Text | None = Field(default=None, max_length=20_000)
    due_at: UtcDatetime | None = None
    owner: Text | None = Field(default=None, max_length=100)
    contact_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    opportunity_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    kind: str
    subject: str
    notes: str | None
    due_at: datetime | None
    owner: str
    contact_id: int | None
    opportunity_id: int | None
    done_at: datetime | None
    created_at: datetime
