"""Money is Decimal with explicit rounding: to the cent, half up, per line and then per total."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")  # unit prices, line totals and discount percentages are rounded to this
HUNDRED = Decimal(100)


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
