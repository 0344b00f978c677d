"""Default interest and the moment of default (§§ 286, 288 BGB), as pure functions.

- Default begins with a dunning notice after the due date (§286 (1)): the day after the first
  letter. A business customer is in default at the latest 30 days after the due date and receipt
  of the invoice (§286 (3)); Kontor takes the invoice as received on its issue date, so the later
  of issue and due date counts. A consumer is in default by the 30-day rule only when the invoice
  said so, which Kontor's invoices do not: for consumers the letter alone counts.
- Interest runs from the first day of default to the letter's date, per day on the open amount
  (act/365, the courts' usual count), at the base rate (Basiszinssatz, §247 BGB) plus 9 points for
  a business customer, plus 5 for a consumer (§288 (1), (2)). The base rate changes on 1 January
  and 1 July: a dated table (`BaseRates`), each entry valid from its day until the next one; a
  period crossing a change is split.
- The 40 € flat fee (§288 (5)) is owed by a business customer in default, once per invoice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from kernel.money import to_cents

BUSINESS_POINTS = Decimal("9")
CONSUMER_POINTS = Decimal("5")
FLAT_FEE = Decimal("40.00")
DAYS_IN_YEAR = Decimal("365")
LATEST_DEFAULT_DAYS = 30


class BaseRateUnknown(ValueError):
    """A day of the interest period lies before the first base rate Kontor knows."""


@dataclass(frozen=True)
class BaseRates:
    """The base rate from each day on (percent), e.g. {2025-07-01: 1.27, 2026-01-01: 1.27}."""
    table: tuple[tuple[date, Decimal], ...]

    @classmethod
    def of(cls, entries: dict[str, Decimal] | dict[date, Decimal]) -> BaseRates:
        pairs = sorted((day if isinstance(day, date) else date.fromisoformat(day), Decimal(str(rate)))
                       for day, rate in entries.items())
        return cls(tuple(pairs))

    def rate_on(self, day: date) -> Decimal:
        rate = None
        for since, value in self.table:
            if since > day:
                break
            rate = value
        if rate is None:
            raise BaseRateUnknown(f"no base rate is known for {day.isoformat()}: add it to the dunning settings "
                                  "(KONTOR_DUNNING_BASE_RATES)")
        return rate

    def changes_between(self, first: date, last: date) -> list[date]:
        return [since for since, _ in self.table if first < since <= last]

    def stale_on(self, day: date) -> bool:
        """True when the newest entry is older than the half-year `day` lies in: the Bundesbank has
        announced a rate Kontor was not told (it keeps counting with the newest it knows)."""
        half_year = date(day.year, 1 if day.month <= 6 else 7, 1)
        return not self.table or self.table[-1][0] < half_year


@dataclass(frozen=True)
class InterestPeriod:
    first_day: date
    last_day: date
    rate: Decimal  # percent a year: base rate + points
    amount: Decimal

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class InterestClaim:
    principal: Decimal
    periods: tuple[InterestPeriod, ...]

    @property
    def amount(self) -> Decimal:
        return to_cents(sum((p.amount for p in self.periods), Decimal(0)))

    @property
    def days(self) -> int:
        return sum(p.days for p in self.periods)


def points_above_base(consumer: bool) -> Decimal:
    return CONSUMER_POINTS if consumer else BUSINESS_POINTS


def default_begins(*, due_date: date, issue_date: date, first_notice: date | None, consumer: bool) -> date | None:
    """The first day of default, or None while the customer is not in default."""
    candidates = []
    if first_notice is not None and first_notice >= due_date:
        candidates.append(first_notice + timedelta(days=1))
    if not consumer:
        candidates.append(max(due_date, issue_date) + timedelta(days=LATEST_DEFAULT_DAYS + 1))
    return min(candidates) if candidates else None


def default_interest(principal: Decimal, first_day: date | None, until: date, rates: BaseRates,
                     consumer: bool) -> InterestClaim:
    """Interest on `principal` for each day from `first_day` to `until` (both counted), split where
    the base rate changes; nothing when there is no default yet or no principal."""
    if first_day is None or first_day > until or principal <= 0:
        return InterestClaim(to_cents(max(principal, Decimal(0))), ())
    points = points_above_base(consumer)
    periods, start = [], first_day
    for change in [*rates.changes_between(first_day, until), until + timedelta(days=1)]:
        end = change - timedelta(days=1)
        rate = rates.rate_on(start) + points
        days = Decimal((end - start).days + 1)
        periods.append(InterestPeriod(start, end, rate, to_cents(principal * rate / 100 * days / DAYS_IN_YEAR)))
        start = change
    return InterestClaim(to_cents(principal), tuple(periods))
