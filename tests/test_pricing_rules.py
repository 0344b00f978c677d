"""Unit tests of the catalog's price lookup rules (domain.pricing): pure, no database."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest

from domain.pricing import PriceListEntry, PriceTier, PricingError, Quote, SpecialCondition, line_total, price
from kernel.money import CENT

CUSTOMER = 7
PRODUCT = 1
DAY = date(2026, 5, 1)


def tiers(*pairs: tuple[str, str]) -> tuple[PriceTier, ...]:
    return tuple(PriceTier(D(minimum), D(unit)) for minimum, unit in pairs)


def entry(*pairs: tuple[str, str], product_id: int = PRODUCT, currency: str = "EUR",
          valid_from: date | None = None, valid_to: date | None = None) -> PriceListEntry:
    return PriceListEntry(product_id, currency, tiers(*(pairs or (("1", "20.00"),))), valid_from, valid_to)


STANDARD = entry(("1", "20.00"), ("10", "18.00"), ("100", "15.50"))


def special(kind: str, value: str, *, product_id: int | None = PRODUCT, customer_id: int = CUSTOMER,
            currency: str | None = None, min_quantity: str = "0", valid_from: date | None = None,
            valid_to: date | None = None) -> SpecialCondition:
    return SpecialCondition(product_id, customer_id, kind, D(value), currency, D(min_quantity),
                            valid_from, valid_to)


def quote(quantity="1", *, entries=(STANDARD,), conditions=(), on=DAY, currency="EUR",
          product_id=PRODUCT, customer_id=CUSTOMER) -> Quote:
    if isinstance(quantity, str):
        quantity = D(quantity)
    return price(customer_id, product_id, quantity, on, currency, entries, conditions)


def assert_quote(result: Quote, unit_price: str, list_price: str, discount: str, rule: str,
                 currency: str = "EUR") -> None:
    """Exact values, and every amount a Decimal with exactly two places."""
    for amount in (result.unit_price, result.list_price, result.discount_percent):
        assert type(amount) is D
        assert amount.as_tuple().exponent == -2
    assert (str(result.unit_price), str(result.list_price), str(result.discount_percent)) == \
        (unit_price, list_price, discount)
    assert result.rule == rule
    assert result.currency == currency


def test_cent_is_one_hundredth():
    assert CENT == D("0.01") and type(CENT) is D


# --- price list tiers -------------------------------------------------------------------------

@pytest.mark.parametrize("quantity, unit_price, rule", [
    ("1", "20.00", "price list tier from 1"),
    ("9", "20.00", "price list tier from 1"),
    ("9.999", "20.00", "price list tier from 1"),
    ("10", "18.00", "price list tier from 10"),
    ("10.00", "18.00", "price list tier from 10"),
    ("10.001", "18.00", "price list tier from 10"),
    ("99", "18.00", "price list tier from 10"),
    ("100", "15.50", "price list tier from 100"),
    ("100000", "15.50", "price list tier from 100"),
])
def test_the_tier_with_the_largest_min_quantity_reached_applies(quantity, unit_price, rule):
    assert_quote(quote(quantity), unit_price, unit_price, "0.00", rule)


def test_integer_quantity_is_accepted():
    assert_quote(quote(10), "18.00", "18.00", "0.00", "price list tier from 10")


def test_tiers_in_any_order():
    shuffled = entry(("100", "15.50"), ("1", "20.00"), ("10", "18.00"))
    assert str(quote("50", entries=[shuffled]).unit_price) == "18.00"
    assert str(quote("5", entries=[shuffled]).unit_price) == "20.00"


@pytest.mark.parametrize("hours, unit_price, rule", [
    ("0.5", "95.00", "price list tier from 0.5"),
    ("2.49", "95.00", "price list tier from 0.5"),
    ("2.5", "90.00", "price list tier from 2.5"),
    ("2.50", "90.00", "price list tier from 2.5"),
    ("7.75", "90.00", "price list tier from 2.5"),
])
def test_fractional_quantities_like_hours(hours, unit_price, rule):
    hourly = entry(("0.5", "95.00"), ("2.5", "90.00"))
    assert_quote(quote(hours, entries=[hourly]), unit_price, unit_price, "0.00", rule)


def test_quantity_below_the_lowest_tier_has_no_price():
    hourly = entry(("0.5", "95.00"), ("2.5", "90.00"))
    with pytest.raises(PricingError, match=r"no price tier of product 1 in EUR for quantity 0.25"):
        quote("0.25", entries=[hourly])


def test_entry_without_tiers_has_no_price():
    with pytest.raises(PricingError, match="no price tier"):
        quote("1", entries=[PriceListEntry(PRODUCT, "EUR", (), None, None)])


def test_two_tiers_with_the_same_min_quantity_are_ambiguous():
    with pytest.raises(PricingError, match="ambiguous price list.*same min_quantity"):
        quote("5", entries=[entry(("1", "20.00"), ("1.0", "19.00"))])


@pytest.mark.parametrize("tier_price, expected", [
    ("1.005", "1.01"),     # as a float 1.005 is 1.00499…: exact Decimal rounds half up
    ("0.125", "0.13"),
    ("0.124", "0.12"),
    ("12345678901234567.89", "12345678901234567.89"),  # beyond float precision, kept exact
])
def test_list_price_is_rounded_half_up_to_cents(tier_price, expected):
    assert_quote(quote(entries=[entry(("1", tier_price))]), expected, expected, "0.00", "price list tier from 1")


def test_discount_is_taken_from_the_unrounded_list_price_and_rounded_only_at_the_end():
    # 0.125 x 90 % = 0.1125 -> 0.11; rounding the list price first would give 0.13 x 90 % = 0.117 -> 0.12
    result = quote(entries=[entry(("1", "0.125"))], conditions=[special("discount_percent", "10")])
    assert (str(result.unit_price), str(result.list_price)) == ("0.11", "0.13")


def test_negative_tier_price_is_refused():
    with pytest.raises(PricingError, match="negative"):
        quote(entries=[entry(("1", "-1.00"))])


def test_float_tier_price_is_refused_not_converted():
    bad = PriceListEntry(PRODUCT, "EUR", (PriceTier(D(1), 19.99),), None, None)
    with pytest.raises(PricingError, match="unit_price of a price tier must be a Decimal or int, got float"):
        quote(entries=[bad])


# --- which price list entry --------------------------------------------------------------------

SPRING = entry(("1", "30.00"), valid_from=date(2026, 1, 1), valid_to=date(2026, 3, 31))


@pytest.mark.parametrize("on, valid", [
    (date(2025, 12, 31), False),
    (date(2026, 1, 1), True),
    (date(2026, 2, 15), True),
    (date(2026, 3, 31), True),
    (date(2026, 4, 1), False),
])
def test_validity_dates_are_inclusive(on, valid):
    if valid:
        assert str(quote(entries=[SPRING], on=on).unit_price) == "30.00"
    else:
        with pytest.raises(PricingError, match=f"no price for product 1 in EUR on {on.isoformat()}"):
            quote(entries=[SPRING], on=on)


@pytest.mark.parametrize("on, expected", [
    (date(2020, 1, 1), "10.00"), (date(2026, 3, 31), "10.00"),
    (date(2026, 4, 1), "12.00"), (date(2099, 12, 31), "12.00"),
])
def test_open_ended_entries_and_a_price_change(on, expected):
    before = entry(("1", "10.00"), valid_to=date(2026, 3, 31))
    after = entry(("1", "12.00"), valid_from=date(2026, 4, 1))
    assert str(quote(entries=[after, before], on=on).unit_price) == expected


def test_no_entry_names_product_currency_and_day():
    with pytest.raises(PricingError) as error:
        quote(entries=[entry(product_id=2)])
    assert str(error.value) == "no price for product 1 in EUR on 2026-05-01"
    assert isinstance(error.value, ValueError)


def test_no_entries_at_all():
    with pytest.raises(PricingError, match="no price for product 1 in EUR on 2026-05-01"):
        quote(entries=[])


def test_entry_in_another_currency_is_not_used():
    with pytest.raises(PricingError, match="no price for product 1 in EUR on 2026-05-01"):
        quote(entries=[entry(("1", "20.00"), currency="USD")])


def test_the_entry_of_the_requested_currency_is_used():
    entries = [entry(("1", "20.00"), currency="EUR"), entry(("1", "21.40"), currency="CHF")]
    assert_quote(quote(entries=entries, currency="CHF"), "21.40", "21.40", "0.00", "price list tier from 1", "CHF")
    assert_quote(quote(entries=entries, currency="EUR"), "20.00", "20.00", "0.00", "price list tier from 1")


@pytest.mark.parametrize("first, second", [
    (entry(("1", "20.00")), entry(("1", "21.00"))),
    (entry(("1", "20.00"), valid_to=DAY), entry(("1", "21.00"), valid_from=DAY)),
    (entry(("1", "20.00")), entry(("1", "20.00"))),
])
def test_several_valid_entries_are_ambiguous_never_picked_at_random(first, second):
    with pytest.raises(PricingError, match="ambiguous price list: 2 prices for product 1 in EUR on 2026-05-01"):
        quote(entries=[first, second])


def test_entries_may_be_a_generator():
    assert str(quote(entries=(e for e in [STANDARD])).unit_price) == "20.00"


# --- input checks ------------------------------------------------------------------------------

@pytest.mark.parametrize("quantity", [D("0"), D("-1"), D("-0.01"), 0, -3])
def test_quantity_must_be_positive(quantity):
    with pytest.raises(PricingError, match="quantity must be greater than 0"):
        quote(quantity)


@pytest.mark.parametrize("quantity, message", [
    (2.5, "quantity must be a Decimal or int, got float"),
    (True, "quantity must be a Decimal or int, got bool"),
    ("3", "quantity must be a Decimal or int, got str"),
    (D("NaN"), "quantity must be a finite number"),
    (D("Infinity"), "quantity must be a finite number"),
])
def test_quantity_must_be_an_exact_finite_number(quantity, message):
    with pytest.raises(PricingError, match=message):
        price(CUSTOMER, PRODUCT, quantity, DAY, "EUR", [STANDARD], [])


@pytest.mark.parametrize("currency", ["eur", "EURO", "", "E1R", None])
def test_currency_must_be_an_iso_code(currency):
    with pytest.raises(PricingError, match="currency must be an ISO 4217 code"):
        quote(currency=currency)


def test_day_must_be_a_date_not_a_datetime():
    with pytest.raises(PricingError, match="on must be a date"):
        quote(on=datetime(2026, 5, 1, tzinfo=timezone.utc))


# --- special conditions ------------------------------------------------------------------------

def test_general_customer_discount():
    result = quote(conditions=[special("discount_percent", "5", product_id=None)])
    assert_quote(result, "19.00", "20.00", "5.00", "customer discount 5 %")


def test_product_discount():
    result = quote(conditions=[special("discount_percent", "12.5")])
    assert_quote(result, "17.50", "20.00", "12.50", "customer discount 12.5 % on product")


def test_special_price_for_customer():
    result = quote(conditions=[special("fixed_price", "17.00", currency="EUR")])
    assert_quote(result, "17.00", "20.00", "15.00", "special price for customer")


def test_general_special_price():
    result = quote(conditions=[special("fixed_price", "17.00", currency="EUR", product_id=None)])
    assert_quote(result, "17.00", "20.00", "15.00", "special price for customer on all products")


def test_discount_applies_to_the_tier_price():
    result = quote("10", conditions=[special("discount_percent", "10", product_id=None)])
    assert_quote(result, "16.20", "18.00", "10.00", "customer discount 10 %")


@pytest.mark.parametrize("list_price, percent, unit_price, effective", [
    ("19.99", "15", "16.99", "15.01"),   # 16.9915 -> 16.99; effective vs the list price shown
    ("9.99", "10", "8.99", "10.01"),     # 8.991
    ("0.05", "50", "0.03", "40.00"),     # 0.025 -> 0.03 half up
    ("10.00", "33.333", "6.67", "33.30"),
    ("20.00", "100", "0.00", "100.00"),
])
def test_discount_rounding(list_price, percent, unit_price, effective):
    result = quote(entries=[entry(("1", list_price))],
                   conditions=[special("discount_percent", percent, product_id=None)])
    assert_quote(result, unit_price, list_price, effective, f"customer discount {D(percent).normalize():f} %")


@pytest.mark.parametrize("order", [1, -1])
def test_product_specific_beats_general_even_when_general_is_lower(order):
    conditions = [special("discount_percent", "5"), special("discount_percent", "30", product_id=None)][::order]
    assert_quote(quote(conditions=conditions), "19.00", "20.00", "5.00", "customer discount 5 % on product")


def test_product_specific_above_list_price_gives_list_price_not_the_general_discount():
    conditions = [special("fixed_price", "25.00", currency="EUR"), special("discount_percent", "10", product_id=None)]
    assert_quote(quote(conditions=conditions), "20.00", "20.00", "0.00", "price list tier from 1")


@pytest.mark.parametrize("order", [1, -1])
def test_lowest_price_among_equals_wins(order):
    conditions = [special("fixed_price", "18.50", currency="EUR"), special("discount_percent", "10"),
                  special("discount_percent", "5")][::order]
    assert_quote(quote(conditions=conditions), "18.00", "20.00", "10.00", "customer discount 10 % on product")


@pytest.mark.parametrize("order", [1, -1])
def test_lowest_general_discount_wins(order):
    conditions = [special("discount_percent", "3", product_id=None),
                  special("discount_percent", "7", product_id=None)][::order]
    assert_quote(quote(conditions=conditions), "18.60", "20.00", "7.00", "customer discount 7 %")


def test_equal_prices_give_the_same_answer_in_any_order():
    conditions = [special("fixed_price", "18.00", currency="EUR"), special("discount_percent", "10")]
    assert quote(conditions=conditions) == quote(conditions=conditions[::-1])


@pytest.mark.parametrize("fixed", ["20.00", "20.001", "21.00", "99"])
def test_special_price_not_below_list_price_is_ignored(fixed):
    result = quote(conditions=[special("fixed_price", fixed, currency="EUR")])
    assert_quote(result, "20.00", "20.00", "0.00", "price list tier from 1")


def test_discount_too_small_to_change_the_cents_is_ignored():
    result = quote(conditions=[special("discount_percent", "0.01")])  # 19.998 -> 20.00
    assert_quote(result, "20.00", "20.00", "0.00", "price list tier from 1")


def test_conditions_of_other_customers_and_products_are_ignored():
    conditions = [special("discount_percent", "50", customer_id=8),
                  special("discount_percent", "50", customer_id=8, product_id=None),
                  special("fixed_price", "1.00", currency="EUR", product_id=2)]
    assert_quote(quote(conditions=conditions), "20.00", "20.00", "0.00", "price list tier from 1")


@pytest.mark.parametrize("on, applies", [
    (date(2026, 4, 30), False), (date(2026, 5, 1), True), (date(2026, 5, 31), True), (date(2026, 6, 1), False),
])
def test_condition_validity_dates_are_inclusive(on, applies):
    condition = special("discount_percent", "10", valid_from=date(2026, 5, 1), valid_to=date(2026, 5, 31))
    assert str(quote(on=on, conditions=[condition]).unit_price) == ("18.00" if applies else "20.00")


@pytest.mark.parametrize("quantity, unit_price, rule", [
    ("9.99", "20.00", "price list tier from 1"),
    ("10", "15.00", "special price for customer from 10"),
    ("50", "15.00", "special price for customer from 10"),
])
def test_condition_min_quantity(quantity, unit_price, rule):
    condition = special("fixed_price", "15.00", currency="EUR", min_quantity="10")
    result = quote(quantity, conditions=[condition])
    assert (str(result.unit_price), result.rule) == (unit_price, rule)


def test_condition_min_quantity_not_reached_lets_the_general_discount_apply():
    conditions = [special("fixed_price", "10.00", currency="EUR", min_quantity="10"),
                  special("discount_percent", "5", product_id=None)]
    assert_quote(quote("5", conditions=conditions), "19.00", "20.00", "5.00", "customer discount 5 %")


@pytest.mark.parametrize("condition_currency", ["CHF", None])
def test_fixed_price_in_another_or_no_currency_is_ignored(condition_currency):
    result = quote(conditions=[special("fixed_price", "1.00", currency=condition_currency)])
    assert_quote(result, "20.00", "20.00", "0.00", "price list tier from 1")


def test_fixed_price_applies_in_its_own_currency():
    entries = [entry(("1", "20.00")), entry(("1", "21.40"), currency="CHF")]
    conditions = [special("fixed_price", "19.00", currency="CHF")]
    assert_quote(quote(entries=entries, conditions=conditions, currency="CHF"),
                 "19.00", "21.40", "11.21", "special price for customer", "CHF")
    assert str(quote(entries=entries, conditions=conditions).unit_price) == "20.00"


@pytest.mark.parametrize("condition_currency, currency, expected", [
    (None, "EUR", "18.00"), (None, "CHF", "19.26"), ("CHF", "EUR", "20.00"), ("CHF", "CHF", "19.26"),
])
def test_discount_currency(condition_currency, currency, expected):
    entries = [entry(("1", "20.00")), entry(("1", "21.40"), currency="CHF")]
    condition = special("discount_percent", "10", currency=condition_currency)
    assert str(quote(entries=entries, conditions=[condition], currency=currency).unit_price) == expected


@pytest.mark.parametrize("percent", ["0", "-5", "100.01", "150"])
def test_discount_percent_out_of_range_is_an_error(percent):
    with pytest.raises(PricingError, match=f"discount_percent of a special condition must be > 0 and <= 100, "
                                           f"got {percent}"):
        quote(conditions=[special("discount_percent", percent)])


def test_bad_condition_of_another_customer_does_not_block_pricing():
    bad = special("discount_percent", "0", customer_id=8)
    assert str(quote(conditions=[bad]).unit_price) == "20.00"


def test_negative_fixed_price_is_an_error():
    with pytest.raises(PricingError, match="fixed_price of a special condition must not be negative"):
        quote(conditions=[special("fixed_price", "-1", currency="EUR")])


def test_unknown_condition_kind_is_an_error():
    with pytest.raises(PricingError, match="kind of a special condition must be fixed_price or discount_percent"):
        quote(conditions=[special("rebate", "5", currency="EUR")])


def test_float_condition_value_is_refused_not_converted():
    condition = SpecialCondition(PRODUCT, CUSTOMER, "discount_percent", 5.0, None)
    with pytest.raises(PricingError, match="value of a special condition must be a Decimal or int, got float"):
        quote(conditions=[condition])


def test_data_and_quote_are_frozen():
    result = quote()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.unit_price = D("1.00")
    with pytest.raises(dataclasses.FrozenInstanceError):
        STANDARD.currency = "USD"
    assert special("discount_percent", "5") == special("discount_percent", "5")
    assert SpecialCondition(None, CUSTOMER, "discount_percent", D(5), None).min_quantity == D(0)


# --- line totals -------------------------------------------------------------------------------

@pytest.mark.parametrize("quantity, unit_price, discount, expected", [
    ("1", "0.005", "0", "0.01"),
    ("1", "0.004", "0", "0.00"),
    ("1", "0.015", "0", "0.02"),
    ("1", "1.005", "0", "1.01"),      # float would round this down
    ("3", "0.335", "0", "1.01"),      # 1.005
    ("2.5", "90.00", "0", "225.00"),
    ("7", "16.99", "0", "118.93"),
    ("3", "19.99", "15", "50.97"),    # 50.9745
    ("1", "0.01", "50", "0.01"),      # 0.005
    ("4", "12.50", "100", "0.00"),
    ("0", "12.50", "0", "0.00"),
    ("-1", "0.005", "0", "-0.01"),    # credit line mirrors the invoice line
    ("-3", "19.99", "15", "-50.97"),
])
def test_line_total_rounds_half_up_per_line(quantity, unit_price, discount, expected):
    total = line_total(D(quantity), D(unit_price), D(discount))
    assert type(total) is D
    assert str(total) == expected


def test_line_total_accepts_ints():
    assert str(line_total(3, 2, 0)) == "6.00"


def test_totals_are_sums_of_rounded_lines():
    lines = [line_total(D(1), D("0.005"), D(0)) for _ in range(3)]
    assert sum(lines) == D("0.03")   # rounding the unrounded sum 0.015 would give 0.02


def test_quote_unit_price_goes_into_the_line_without_discounting_again():
    result = quote("7", entries=[entry(("1", "19.99"))], conditions=[special("discount_percent", "15")])
    assert str(line_total(D(7), result.unit_price, D(0))) == "118.93"


@pytest.mark.parametrize("discount", ["-1", "100.01"])
def test_line_discount_must_be_between_0_and_100(discount):
    with pytest.raises(PricingError, match="discount_percent must be between 0 and 100"):
        line_total(D(1), D("10.00"), D(discount))


@pytest.mark.parametrize("arguments, field", [
    ((1.5, D("10.00"), D(0)), "quantity"),
    ((D(1), 10.0, D(0)), "unit_price"),
    ((D(1), D("10.00"), 5.0), "discount_percent"),
])
def test_line_total_refuses_floats(arguments, field):
    with pytest.raises(PricingError, match=f"{field} must be a Decimal or int, got float"):
        line_total(*arguments)
