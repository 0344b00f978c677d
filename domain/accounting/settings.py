"""What the tax advisor's DATEV needs to take Kontor's bookings: whose client they are (consultant and
client number), when the fiscal year starts, which chart of accounts the books use and how long its
general-ledger accounts are. The tax advisor tells these; the defaults are DATEV's usual ones."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Literal

from pydantic import Field

from domain.accounting.charts import SKR03, SKR04, ChartOfAccounts
from domain.settings import CompanySettings


class DatevSettings(CompanySettings):
    # (builds on the company's section: the time zone its export dates and times are in)
    # DATEV: the tax advisor's consultant number (Beraternummer) and the company's client number there
    datev_consultant_number: int = Field(default=1001, ge=1001, le=9999999)
    datev_client_number: int = Field(default=1, ge=1, le=99999)
    datev_fiscal_year_start_month: int = Field(default=1, ge=1, le=12, description="1: the calendar year")
    datev_chart: Literal["SKR03", "SKR04"] = "SKR03"
    datev_account_length: int = Field(default=4, ge=4, le=8, description="digits of a general-ledger account "
                                                                         "(Sachkontenlänge); debtors have one more")


def fiscal_year_start(settings: DatevSettings, day: date) -> date:
    """The first day of the fiscal year `day` lies in."""
    month = settings.datev_fiscal_year_start_month
    return date(day.year if day.month >= month else day.year - 1, month, 1)


def chart_of(settings: DatevSettings) -> ChartOfAccounts:
    """The configured chart with its accounts at the configured length: general-ledger accounts are
    lengthened with zeros (8400 → 84000), debtor accounts run from 10…0 (one digit more) to 69…9, so
    customer V-000012 is 10012 at length 4 and 100012 at length 5."""
    chart = SKR04 if settings.datev_chart == "SKR04" else SKR03
    length = settings.datev_account_length
    if length == 4:
        return chart

    def longer(account: str) -> str:
        return account.ljust(length, "0")
    return replace(chart, bank=longer(chart.bank), revenue={k: longer(v) for k, v in chart.revenue.items()},
                   skonto={k: longer(v) for k, v in chart.skonto.items()}, debtor_first=10 ** length,
                   debtor_last=7 * 10 ** length - 1)
