"""The offer process's settings: how long an offer is valid, when the customer is reminded, when an
approval is due and escalated, and the company's standard terms the approval measures an offer
against. The offer process also prints the company's letterhead and sends mail, so its section
builds on those two; wherever the composed settings are passed, they are all of these at once."""
from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from domain.settings import CompanySettings
from mailers.settings import MailSettings
from runtime.moments import parse_duration


class OfferSettings(CompanySettings, MailSettings):
    # Offers: validity, the customer's reminder before it ends, the approval's due time (the approver
    # is reminded then) and the time after which it goes to the level's deputy group.
    offer_validity_days: int = Field(default=30, ge=1, le=365)
    offer_reminder_days_before: int = Field(default=3, ge=0, le=60)
    offer_approval_due: str = Field(default="P2D", description="ISO 8601 duration")
    offer_approval_escalate_after: str = Field(default="P4D", description="ISO 8601 duration")
    # The company's standard terms: what the offer approval measures an offer's terms and exposure
    # against when no manager set the customer's own (a salesperson's terms approve nothing).
    standard_payment_days: int = Field(default=30, ge=0, le=365)
    standard_skonto_percent: Decimal = Field(default=Decimal("2"), ge=0, le=100)
    standard_skonto_days: int = Field(default=10, ge=0, le=365)
    standard_credit_limit: Decimal = Field(default=Decimal("50000"), ge=0)
    approval_deputies: dict[str, str] = Field(default_factory=lambda: {
        "team_lead": "sales_manager", "sales_manager": "managing_director",
        "managing_director": "managing_director_deputy"})

    @field_validator("offer_approval_due", "offer_approval_escalate_after")
    @classmethod
    def _iso_duration(cls, value: str):
        parse_duration(value)  # ValueError names the bad value
        return value
