"""Request and answer bodies of the dunning endpoints."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.offer_schemas import Money
from domain.fields import Strict, Text

DunningState = Literal["running", "disputed", "settled", "stopped", "handed_over"]


class InterestPeriodOut(BaseModel):
    first_day: date
    last_day: date
    rate: Decimal = Field(description="percent a year: base rate + 9 (business) or + 5 (consumer) points")
    days: int
    amount: Money


class DunningLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    level: int
    kind: Literal["reminder", "dunning_1", "dunning_2"]
    letter_date: date
    pay_by: date
    currency: str
    open_amount: Money
    interest_from: date | None = Field(description="the first day of default")
    interest: Money
    interest_periods: list[InterestPeriodOut]
    fee: Money
    flat_fee: Money = Field(description="§288 (5) BGB, business customers, once per invoice")
    fees_before: Money
    total_claim: Money
    document_id: int | None
    sent: bool = Field(description="its mail is queued (false: the invoice was settled before it went out)")


class DunningOut(BaseModel):
    id: int
    invoice_id: int
    invoice_number: str
    customer_id: int
    status: DunningState
    level: int = Field(description="the last letter's level: 1 reminder, 2 and 3 dunning letters")
    consumer: bool
    instance_id: int | None
    started_on: date
    ended_on: date | None
    outcome: str | None
    created_at: datetime
    letters: list[DunningLetterOut]


class DisputeIn(Strict):
    reason: Text = Field(min_length=1, max_length=1000, description="what the customer disputes")


class DunningRunOut(BaseModel):
    started: list[str] = Field(description="the invoices whose dunning started")
    left: int = Field(description="due as well, beyond this run's limit: the next run takes them")
