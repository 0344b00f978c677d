"""Default interest and the moment of default (§§ 286, 288 BGB): pure figures, worked by hand."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.dunning.interest import BaseRates, BaseRateUnknown, default_begins, default_interest
from domain.dunning.settings import DunningSettings

RATES = BaseRates.of({"2025-01-01": Decimal("2.27"), "2025-07-01": Decimal("1.27")})


def test_a_period_across_a_change_of_the_base_rate_is_split_and_counted_per_day():
    claim = default_interest(Decimal("1000.00"), date(2025, 6, 20), date(2025, 7, 10), RATES, consumer=False)
    # 20-30 June: 11 days at 2.27 + 9 = 11.27 %: 1000 x 11.27 % x 11/365 = 3.3964 -> 3.40
    # 1-10 July: 10 days at 1.27 + 9 = 10.27 %: 1000 x 10.27 % x 10/365 = 2.8137 -> 2.81
    assert [(p.first_day, p.last_day, p.rate, p.days, p.amount) for p in claim.periods] == [
        (date(2025, 6, 20), date(2025, 6, 30), Decimal("11.27"), 11, Decimal("3.40")),
        (date(2025, 7, 1), date(2025, 7, 10), Decimal("10.27"), 10, Decimal("2.81"))]
    assert claim.amount == Decimal("6.21") and claim.days == 21


def test_a_consumer_pays_five_points_above_the_base_rate():
    claim = default_interest(Decimal("500.00"), date(2025, 8, 1), date(2025, 8, 31), RATES, consumer=True)
    # 31 days at 1.27 + 5 = 6.27 %: 500 x 6.27 % x 31/365 = 2.6626 -> 2.66
    assert [(p.rate, p.amount) for p in claim.periods] == [(Decimal("6.27"), Decimal("2.66"))]


def test_no_interest_before_default_or_without_a_principal():
    assert default_interest(Decimal("100.00"), None, date(2025, 8, 1), RATES, False).amount == Decimal("0")
    assert default_interest(Decimal("100.00"), date(2025, 8, 2), date(2025, 8, 1), RATES, False).periods == ()
    assert default_interest(Decimal("0.00"), date(2025, 8, 1), date(2025, 8, 9), RATES, False).periods == ()


def test_default_begins_the_day_after_the_first_notice_or_30_days_after_due_for_businesses():
    due, issued = date(2025, 3, 31), date(2025, 3, 17)
    # a reminder of 7 April: in default from 8 April, business or consumer
    assert default_begins(due_date=due, issue_date=issued, first_notice=date(2025, 4, 7), consumer=False) \
        == date(2025, 4, 8)
    assert default_begins(due_date=due, issue_date=issued, first_notice=date(2025, 4, 7), consumer=True) \
        == date(2025, 4, 8)
    # no notice: a business is in default 30 days after due date and receipt (§286 (3)), a consumer is not
    assert default_begins(due_date=due, issue_date=issued, first_notice=None, consumer=False) == date(2025, 5, 1)
    assert default_begins(due_date=due, issue_date=issued, first_notice=None, consumer=True) is None
    # a late first notice: the 30 days came first
    assert default_begins(due_date=due, issue_date=issued, first_notice=date(2025, 6, 1), consumer=False) \
        == date(2025, 5, 1)


def test_a_day_before_the_first_known_base_rate_is_refused_and_an_old_table_is_stale():
    with pytest.raises(BaseRateUnknown, match="2024-12-31"):
        default_interest(Decimal("10.00"), date(2024, 12, 31), date(2025, 1, 5), RATES, False)
    assert RATES.stale_on(date(2026, 1, 2)) and not RATES.stale_on(date(2025, 12, 31))


def test_the_settings_hold_a_dated_base_rate_table_and_refuse_a_bad_day(monkeypatch):
    assert BaseRates.of(DunningSettings().dunning_base_rates).rate_on(date(2025, 8, 1)) == Decimal("1.27")
    monkeypatch.setenv("KONTOR_DUNNING_BASE_RATES", '{"2025-13-01": "1.0"}')
    with pytest.raises(ValueError, match="2025-13-01"):
        DunningSettings()
