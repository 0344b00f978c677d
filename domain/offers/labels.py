"""How staff read an offer at a glance: its number, customer and amount in one line (the titles of
its tasks, the salesperson's notices), the amount formatted by kernel.formatting in the staff's
language: the main language of the company's country (DE, AT, CH: German; else English)."""
from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError

from domain.offers.models import Offer
from kernel.formatting import language, money


@cache
def staff_language(country: str) -> str:
    """de or en: the company's country's main language as CLDR knows it (DE: de, GB: en)."""
    try:
        return language(str(Locale.parse(f"und_{country.upper()}")), default="en")
    except (UnknownLocaleError, ValueError):
        return "de"


def offer_summary(offer: Offer, customer_name: str, lang: str) -> str:
    """OFF-2026-0001 · Müller GmbH · 13.900,39 € (the net total: what the approval rules measure)."""
    return f"{offer.label} · {customer_name} · {money(offer.net_total, offer.currency, lang)}"
