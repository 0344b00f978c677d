"""Price lookup rules of the catalog, without I/O: price list tiers and customers' special conditions.

Money is `Decimal` (never float) with its currency on every price. Prices are worked out exactly and
rounded to cents (ROUND_HALF_UP) only at the end."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from kernel import money
from kernel.money import HUNDRED, to_cents

ConditionKind = Literal["fixed_price", "discount_percent"]


class PricingError(ValueError):
    """A price cannot be given: bad input or price data that does not allow one answer."""


@dataclass(frozen=True)
class PriceTier:
    min_quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class PriceListEntry:
    """The price of a product in one currency for a period (dates inclusive, None = open)."""
    product_id: int
    currency: str
    tiers: tuple[PriceTier, ...]
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class SpecialCondition:
    """A customer's special price or discount; product_id None means all products (general discount).
    A fixed price holds only in its currency; a discount with currency None holds in every currency."""
    product_id: int | None
    customer_id: int
    kind: ConditionKind
    value: Decimal
    currency: str | None = None
    min_quantity: Decimal = Decimal(0)
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class Quote:
    """unit_price is final: do not apply discount_percent to it again (that is only for display)."""
    unit_price: Decimal
    list_price: Decimal
    currency: str
    discount_percent: Decimal
    rule: str


def price(customer_id: int, product_id: int, quantity: Decimal | int, on: date, currency: str,
          entries: Iterable[PriceListEntry], conditions: Iterable[SpecialCondition]) -> Quote:
    """The unit price of a product for a customer, quantity and day: the price list tier, or the
    customer's special condition where that is lower."""
    quantity = _decimal(quantity, "quantity")
    if quantity <= 0:
        raise PricingError(f"quantity must be greater than 0, got {quantity}")
    if isinstance(on, datetime) or not isinstance(on, date):
        raise PricingError(f"on must be a date, got {on!r}")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise PricingError(f"currency must be an ISO 4217 code like 'EUR', got {currency!r}")

    entry = find_price_list_entry(product_id, currency, on, entries)
    tier = tier_for_quantity(entry, quantity)
    list_price = _decimal(tier.unit_price, "unit_price of a price tier")
    if list_price < 0:
        raise PricingError(f"price tier from {_number(tier.min_quantity)} of product {product_id} is negative")
    quote = Quote(to_cents(list_price), to_cents(list_price), currency, Decimal("0.00"),
                  f"price list tier from {_number(tier.min_quantity)}")

    best = best_special_condition(customer_id, product_id, quantity, on, currency, list_price, conditions)
    if best is None:
        return quote
    special_price, condition = best
    final = to_cents(special_price)
    if final >= quote.list_price:  # a "special" condition never raises the price
        return quote
    return Quote(final, quote.list_price, currency, _effective_discount(quote.list_price, final),
                 describe_condition(condition))


def find_price_list_entry(product_id: int, currency: str, on: date,
                          entries: Iterable[PriceListEntry]) -> PriceListEntry:
    """The one entry for the product in the currency valid on the day; none or several is an error."""
    found = [e for e in entries if e.product_id == product_id and e.currency == currency
             and _valid_on(on, e.valid_from, e.valid_to)]
    if not found:
        raise PricingError(f"no price for product {product_id} in {currency} on {on.isoformat()}")
    if len(found) > 1:
        raise PricingError(f"ambiguous price list: {len(found)} prices for product {product_id} "
                           f"in {currency} on {on.isoformat()}")
    return found[0]


def tier_for_quantity(entry: PriceListEntry, quantity: Decimal) -> PriceTier:
    """The tier with the largest min_quantity not above the quantity."""
    minimums = [_decimal(t.min_quantity, "min_quantity of a price tier") for t in entry.tiers]
    if len(set(minimums)) != len(minimums):
        raise PricingError(f"ambiguous price list: product {entry.product_id} in {entry.currency} "
                           "has two tiers with the same min_quantity")
    reached = [t for t, minimum in zip(entry.tiers, minimums, strict=True) if minimum <= quantity]
    if not reached:
        raise PricingError(f"no price tier of product {entry.product_id} in {entry.currency} "
                           f"for quantity {_number(quantity)}")
    return max(reached, key=lambda t: t.min_quantity)


def best_special_condition(customer_id: int, product_id: int, quantity: Decimal, on: date, currency: str,
                           list_price: Decimal, conditions: Iterable[SpecialCondition],
                           ) -> tuple[Decimal, SpecialCondition] | None:
    """(unrounded price, condition) of the condition that applies, or None. A product-specific
    condition beats a general one; among equals the lowest price wins."""
    applicable = [c for c in conditions if c.customer_id == customer_id
                  and c.product_id in (product_id, None)
                  and _valid_on(on, c.valid_from, c.valid_to)
                  and _decimal(c.min_quantity, "min_quantity of a special condition") <= quantity
                  and (c.currency == currency or (c.kind == "discount_percent" and c.currency is None))]
    specific = [c for c in applicable if c.product_id == product_id]
    candidates = [(condition_price(c, list_price), c) for c in (specific or applicable)]
    if not candidates:
        return None
    return min(candidates, key=lambda pc: (pc[0], describe_condition(pc[1])))


def condition_price(condition: SpecialCondition, list_price: Decimal) -> Decimal:
    """The unrounded unit price the condition gives for the list price."""
    value = _decimal(condition.value, "value of a special condition")
    if condition.kind == "fixed_price":
        if value < 0:
            raise PricingError(f"fixed_price of a special condition must not be negative, got {value}")
        return value
    if condition.kind == "discount_percent":
        if not 0 < value <= HUNDRED:
            raise PricingError(f"discount_percent of a special condition must be > 0 and <= 100, got {value}")
        return list_price * (HUNDRED - value) / HUNDRED
    raise PricingError(f"kind of a special condition must be fixed_price or discount_percent, "
                       f"got {condition.kind!r}")


def describe_condition(condition: SpecialCondition) -> str:
    """The rule text shown with a quote, e.g. "customer discount 5 %"."""
    if condition.kind == "fixed_price":
        text = "special price for customer" + (" on all products" if condition.product_id is None else "")
    else:
        text = f"customer discount {_number(condition.value)} %"
        text += " on product" if condition.product_id is not None else ""
    return text + (f" from {_number(condition.min_quantity)}" if condition.min_quantity > 0 else "")


def line_total(quantity: Decimal | int, unit_price: Decimal | int, discount_percent: Decimal | int) -> Decimal:
    """quantity x unit_price less a line discount (0-100 %), rounded per line to cents, half up
    (away from zero, so credit lines mirror invoice lines). Totals are sums of rounded lines,
    never rounded again. Pass a Quote's unit_price with discount 0: it is already discounted."""
    quantity = _decimal(quantity, "quantity")
    unit_price = _decimal(unit_price, "unit_price")
    discount_percent = _decimal(discount_percent, "discount_percent")
    if not 0 <= discount_percent <= HUNDRED:
        raise PricingError(f"discount_percent must be between 0 and 100, got {discount_percent}")
    return money.line_net(quantity, unit_price, discount_percent)


def _effective_discount(list_price: Decimal, unit_price: Decimal) -> Decimal:
    if list_price == 0:
        return Decimal("0.00")
    return to_cents((list_price - unit_price) * HUNDRED / list_price)


def _valid_on(on: date, valid_from: date | None, valid_to: date | None) -> bool:
    return (valid_from is None or valid_from <= on) and (valid_to is None or on <= valid_to)


def _decimal(value: object, field: str) -> Decimal:
    """An exact Decimal from a Decimal or int; float (inexact) and non-finite values are refused."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise PricingError(f"{field} must be a Decimal or int, got {type(value).__name__} {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise PricingError(f"{field} must be a finite number, got {value}")
    return result


def _number(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros: 10, 2.5, 5."""
    return f"{Decimal(value).normalize():f}"
