"""Request and response bodies of SEPA mandates and direct debit runs (amounts are decimal strings)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.offer_schemas import Money
from domain.fields import Day, Strict, Text

Scheme = Literal["CORE", "B2B"]


class MandateIn(Strict):
    reference: Text = Field(min_length=1, max_length=35, description="the mandate reference (Mandatsreferenz), "
                                                                     "unique; SEPA characters only")
    signed_on: Day = Field(description="the day the customer signed the mandate")
    debtor_name: Text = Field(min_length=1, max_length=70, description="the account holder")
    iban: Text = Field(min_length=5, max_length=42, description="checked (check digits, length, bank code); "
                                                                "spaces allowed")
    bic: Text | None = Field(None, max_length=14, description="optional within SEPA")
    scheme: Scheme = Field("CORE", description="CORE, or B2B for businesses that confirmed it to their bank")


class MandateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    reference: str
    signed_on: date
    debtor_name: str
    iban: str = Field(description="masked for the customer's portal users")
    bic: str | None
    scheme: Scheme
    status: Literal["active", "revoked"]
    next_sequence_type: Literal["FRST", "RCUR"] = Field(description="how its next collection is sent")
    created_at: datetime
    revoked_at: datetime | None


class DirectDebitRequest(Strict):
    collection_date: Day = Field(description="the day the money is collected (after today)")
    scheme: Scheme = Field("CORE", description="the mandates collected: CORE or B2B, one file each")


class DirectDebitItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    invoice_id: int
    mandate_id: int
    amount: Money
    end_to_end_id: str = Field(description="the invoice number")
    sequence_type: Literal["FRST", "RCUR"]


class DirectDebitRunOut(BaseModel):
    id: int
    collection_date: date
    scheme: Scheme
    item_count: int
    total: Money
    filename: str
    created_at: datetime
    created_by: str
    items: list[DirectDebitItemOut]
