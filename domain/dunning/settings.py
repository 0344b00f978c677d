"""The dunning settings: how many days past the due date the dunning run waits before it starts a
case (a payment on its way is not dunned), and the base rate of §247 BGB as a dated table, each
entry valid from its day until the next (the Bundesbank announces it for 1 January and 1 July;
add each new one, e.g. KONTOR_DUNNING_BASE_RATES='{"2026-07-01": "1.27", …}' with all entries)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field, field_validator

from kernel.settings import SettingsSection

# Basiszinssatz (§247 BGB) as announced by the Deutsche Bundesbank, in percent
KNOWN_BASE_RATES = {"2023-01-01": Decimal("1.62"), "2023-07-01": Decimal("3.12"), "2024-01-01": Decimal("3.62"),
                    "2024-07-01": Decimal("3.37"), "2025-01-01": Decimal("2.27"), "2025-07-01": Decimal("1.27"),
                    "2026-01-01": Decimal("1.27")}


class DunningSettings(SettingsSection):
    dunning_grace_days: int = Field(default=7, ge=0, le=90,
                                    description="days past the due date before the dunning run starts a case")
    dunning_base_rates: dict[str, Decimal] = Field(default_factory=lambda: dict(KNOWN_BASE_RATES),
                                                   description="Basiszinssatz in percent from each day on")

    @field_validator("dunning_base_rates")
    @classmethod
    def _dated(cls, value: dict[str, Decimal]):
        if not value:
            raise ValueError("at least one base rate is needed")
        for day, rate in value.items():
            date.fromisoformat(day)  # ValueError names the bad day
            if not Decimal("-10") <= rate <= Decimal("20"):
                raise ValueError(f"base rate {rate} from {day} is not a plausible percentage")
        return value
