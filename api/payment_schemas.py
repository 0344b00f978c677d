"""Request and response bodies of payments, bank statements and open items (amounts are decimal strings)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.offer_schemas import Money
from api.params import MAX_ID
from domain.fields import Amount, Currency, Day, Strict, Text

PaymentSource = Literal["manual", "direct_debit"]
ImportState = Literal["received", "importing", "imported", "failed"]


class AllocationIn(Strict):
    invoice_id: int = Field(ge=1, le=MAX_ID)
    amount: Amount = Field(description="money of this payment that goes to the invoice")
    skonto: Amount = Field(Decimal(0), description="Skonto granted on top (split into net and tax per rate)")


class PaymentIn(Strict):
    customer_id: int = Field(ge=1, le=MAX_ID)
    amount: Amount
    currency: Currency = "EUR"
    booking_date: Day
    source: PaymentSource = Field("manual", description="manual, or direct_debit: collected by SEPA direct debit")
    reference: Text | None = Field(None, max_length=300, description="the remittance text; without allocations "
                                                                       "the invoice numbers in it allocate the payment")
    allocations: list[AllocationIn] | None = Field(None, max_length=200, description="default: the matching "
                                                                                      "allocates by the reference")


class AllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    invoice_id: int
    kind: Literal["payment", "skonto", "return", "credit_note", "credit"]
    amount: Money
    applied_on: date | None = Field(None, description="kind credit: the day the customer's credit was applied")
    shares: list[dict] = Field(description="a Skonto's net and tax per tax rate")


class PaymentOut(BaseModel):
    id: int
    customer_id: int
    amount: Money
    currency: str
    booking_date: date
    source: str
    reference: str | None
    statement_line_id: int | None
    created_by: str
    created_at: datetime
    allocations: list[AllocationOut]
    credit: Money = Field(description="the rest no invoice took: the customer's credit")


class CreditApplyIn(Strict):
    amount: Amount | None = Field(None, description="default: as much as the credit and the open amount allow")


class CreditUseOut(BaseModel):
    payment_id: int = Field(description="the payment whose credit settles the invoice now")
    amount: Money


class CreditAppliedOut(BaseModel):
    invoice_id: int
    number: str
    currency: str
    applied: Money
    used: list[CreditUseOut]
    open_amount: Money = Field(description="what stays open on the invoice")
    credit_left: Money = Field(description="the customer's credit left in this currency")


class StatementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    format: str
    source_format: str
    account_iban: str
    statement_id: str
    from_date: date | None
    to_date: date | None
    currency: str
    filename: str
    document_id: int | None
    state: ImportState
    lines_total: int
    counts: dict[str, int] = Field(description="lines per outcome once imported; `duplicate`: imported before")
    uploaded_by: str
    uploaded_at: datetime
    imported_at: datetime | None
    last_error: str | None


class StatementLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int
    amount: Money
    direction: str
    currency: str
    booking_date: date
    value_date: date | None
    remittance: str
    end_to_end_id: str | None
    counterparty_name: str | None
    counterparty_iban: str | None
    is_return: bool
    return_reason: str | None
    outcome: str
    rule: str
    reason: str | None
    reason_text: str | None = Field(None, description="why no rule matched it (English)")
    customer_id: int | None
    clarification: str | None = Field(description="open (a task waits), assigned, not_customer_payment")
    clarified_by: str | None


class StatementDetailOut(StatementOut):
    lines: list[StatementLineOut]


class OpenItemOut(BaseModel):
    invoice_id: int
    number: str
    issue_date: date
    due_date: date
    amount_due: Money
    paid: Money
    skonto: Money
    credited: Money
    open_amount: Money
    days_overdue: int = Field(description="days past the due date (negative: days until it)")
    due: bool
    overdue: bool


class CustomerOpenItemsOut(BaseModel):
    customer_id: int
    currency: str
    open_total: Money
    due_total: Money
    overdue_total: Money
    credit: Money = Field(description="over-payments not yet used")
    items: list[OpenItemOut]


class CurrencyTotalOut(BaseModel):
    currency: str
    open_total: Money
    due_total: Money
    overdue_total: Money


class OpenItemsOut(BaseModel):
    customers: list[CustomerOpenItemsOut]
    totals: list[CurrencyTotalOut] = Field(description="the sums over the customers listed, per currency")
