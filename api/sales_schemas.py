"""Request and response bodies of leads, opportunities and the pipeline."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.customer_schemas import Amount, AmountOut, Currency, Email, Phone, Strict
from api.schemas import Text, not_nullable
from api.versioning import Version
from domain.fields import Day

LeadStatus = Literal["new", "qualified", "disqualified", "converted"]
LeadSource = Literal["web_form", "email", "phone", "fair", "referral", "import", "other"]
PhaseKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Money = Amount
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class LeadIn(Strict):
    kind: Literal["company", "person"] = "company"
    company_name: Text | None = Field(default=None, max_length=200)
    first_name: Text | None = Field(default=None, max_length=100)
    last_name: Text | None = Field(default=None, max_length=100)
    email: Email | None = None
    phone: Phone | None = None
    source: LeadSource = "other"
    score: int = Field(default=0, ge=0, le=100)
    owner: Text | None = Field(default=None, max_length=100)
    message: Text | None = Field(default=None, max_length=20_000)


LEAD_NOT_NULL = {"source", "score", "status"}


class LeadPatch(Strict):
    model_config = ConfigDict(json_schema_extra=not_nullable(LEAD_NOT_NULL))
    version: Version = None
    company_name: Text | None = Field(default=None, max_length=200)
    first_name: Text | None = Field(default=None, max_length=100)
    last_name: Text | None = Field(default=None, max_length=100)
    email: Email | None = None
    phone: Phone | None = None
    source: LeadSource | None = None
    score: int | None = Field(default=None, ge=0, le=100)
    status: LeadStatus | None = None
    owner: Text | None = Field(default=None, max_length=100)
    disqualified_reason: Text | None = Field(default=None, max_length=300)




class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    company_name: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    source: str
    score: int
    status: str
    owner: str | None
    message: str | None
    customer_id: int | None
    disqualified_reason: str | None
    created_at: datetime
    version: int


class ConvertedCustomer(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    name: str
    status: str
    created: bool = Field(default=True, description="false: the lead joined this existing customer")


class ConvertedContact(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    full_name: str
    email: str | None
    receives: list[str] = Field(description="the documents the contact receives (see README, 'Who receives what')")


class ConvertedOpportunity(BaseModel):
    id: int
    title: str
    phase: str
    amount: AmountOut
    currency: str


class ConvertedLeadOut(LeadOut):
    """The converted lead and what it made."""
    customer: ConvertedCustomer
    contact: ConvertedContact | None = Field(description="null: the lead named no person")
    opportunity: ConvertedOpportunity | None = Field(description="null: none was asked for")


class ConvertOpportunity(Strict):
    title: Text = Field(min_length=1, max_length=200)
    amount: Money = Decimal(0)
    expected_close: Day | None = None
    phase: PhaseKey | None = None


class ConvertLead(Strict):
    existing_customer_id: Id | None = Field(default=None, description="join this customer instead of creating one")
    opportunity: ConvertOpportunity | None = None


class OpportunityIn(Strict):
    customer_id: Id
    title: Text = Field(min_length=1, max_length=200)
    amount: Money
    currency: Currency | None = None
    phase: PhaseKey | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    expected_close: Day | None = None
    owner: Text | None = Field(default=None, max_length=100)
    group_id: Id | None = None


OPPORTUNITY_NOT_NULL = {"title", "amount", "probability"}


class OpportunityPatch(Strict):
    model_config = ConfigDict(json_schema_extra=not_nullable(OPPORTUNITY_NOT_NULL))
    version: Version = None
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    amount: Money | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    expected_close: Day | None = None
    owner: Text | None = Field(default=None, max_length=100)
    group_id: Id | None = None




class MoveOpportunity(Strict):
    phase: PhaseKey
    lost_reason: Text | None = Field(default=None, max_length=300)
    version: Version = None


class OpportunityOut(BaseModel):
    id: int
    customer_id: int
    group_id: int | None
    title: str
    phase: str
    phase_entered_at: datetime
    state: str  # open | won | lost
    amount: AmountOut
    currency: str
    probability: int
    weighted_amount: AmountOut
    expected_close: date | None
    owner: str | None
    lost_reason: str | None
    closed_at: datetime | None
    version: int


class GroupIn(Strict):
    customer_id: Id
    name: Text = Field(min_length=1, max_length=200)


class GroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    name: str


class PhaseIn(Strict):
    name: Text = Field(min_length=1, max_length=100)
    position: int = Field(ge=1, le=1000)
    probability: int = Field(ge=0, le=100)
    max_days: int | None = Field(default=None, ge=1, le=3650)
    outcome: Literal["won", "lost"] | None = None
    active: bool = True


class PhaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    key: str
    name: str
    position: int
    probability: int
    max_days: int | None
    outcome: str | None
    active: bool


class PipelinePhaseOut(BaseModel):
    key: str
    name: str
    probability: int
    max_days: int | None
    count: int
    amount: AmountOut
    weighted_amount: AmountOut
    overdue: int
    overdue_ids: list[int]


class PipelineOut(BaseModel):
    currency: str
    owner: str | None
    phases: list[PipelinePhaseOut]
    total_amount: AmountOut
    total_weighted_amount: AmountOut
