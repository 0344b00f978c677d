"""Open items as payment matching sees them, and the Skonto (early-payment discount) rules.

An invoice may be paid less its Skonto when the money is booked on or before the last Skonto day.
The Skonto reduces revenue and output tax in the proportion of the invoice's gross per tax rate
(§17 UStG): 2 % of 1,190.00 at 19 % is 23.80, of which 20.00 net and 3.80 tax."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from kernel.money import HUNDRED, to_cents

ItemKind = Literal["invoice", "credit_note"]


@dataclass(frozen=True)
class TaxPortion:
    """The part of an invoice's gross at one tax rate (percent: 19, 7, 0)."""
    rate: Decimal
    gross: Decimal


@dataclass(frozen=True)
class OpenItem:
    """An issued invoice or credit note of a customer. `open_amount` is what is still to be paid (for a
    credit note: the credit still to be used), positive; 0 for an item already settled (still needed to
    re-open it when a direct debit comes back). `customer_ibans` are the accounts the customer is
    known to pay from; `mandate_reference` the SEPA mandate the invoice was collected under."""
    item_id: int | str
    number: str
    customer_id: int | str
    currency: str
    open_amount: Decimal
    gross: Decimal
    due_date: date
    customer_ibans: frozenset[str] = frozenset()
    kind: ItemKind = "invoice"
    issue_date: date | None = None
    skonto_percent: Decimal = Decimal(0)
    skonto_until: date | None = None
    gross_by_rate: tuple[TaxPortion, ...] = ()
    mandate_reference: str | None = None

    def __post_init__(self) -> None:
        if self.open_amount < 0 or self.gross < 0:
            raise ValueError(f"{self.number}: amounts of an open item are positive")
        if self.skonto_percent and not self.gross_by_rate:
            raise ValueError(f"{self.number}: Skonto needs the gross per tax rate to split it")
        if self.gross_by_rate and sum(p.gross for p in self.gross_by_rate) != self.gross:
            raise ValueError(f"{self.number}: the gross per tax rate does not add up to the gross")

    def skonto_amount(self) -> Decimal:
        """The Skonto on the full gross, to the cent."""
        return to_cents(self.gross * self.skonto_percent / HUNDRED)

    def skonto_allowed(self, booked: date, open_amount: Decimal) -> bool:
        """Skonto when the money is booked on or before the last Skonto day and nothing was paid yet."""
        return (bool(self.skonto_percent) and self.skonto_until is not None and booked <= self.skonto_until
                and open_amount == self.gross and self.kind == "invoice")


@dataclass(frozen=True)
class SkontoShare:
    """The Skonto at one tax rate: gross = net + tax."""
    rate: Decimal
    gross: Decimal
    net: Decimal
    tax: Decimal


def split_skonto(skonto: Decimal, portions: tuple[TaxPortion, ...]) -> tuple[SkontoShare, ...]:
    """The Skonto split over the tax rates in proportion to the gross per rate; the last rate takes
    the rounding remainder, so the shares add up to the Skonto exactly."""
    total = sum((p.gross for p in portions), Decimal(0))
    if not skonto or not total:
        return ()
    shares = []
    left = skonto
    for index, portion in enumerate(portions):
        gross = left if index == len(portions) - 1 else to_cents(skonto * portion.gross / total)
        left -= gross
        tax = to_cents(gross * portion.rate / (HUNDRED + portion.rate))
        shares.append(SkontoShare(portion.rate, gross, gross - tax, tax))
    return tuple(shares)
