"""How staff read an offer at a glance: its number, customer and amount in one line (the titles of
its tasks, the salesperson's notices), amounts formatted by currency and locale (Babel, CLDR)."""
from __future__ import annotations

from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency

from domain.offers.models import Offer


@cache
def company_locale(country: str) -> str:
    """The locale staff read: the company's country's main language (DE: de_DE, GB: en_GB)."""
    try:
        return str(Locale.parse(f"und_{country.upper()}"))
    except (UnknownLocaleError, ValueError):
        return "de_DE"


def amount_text(amount: Decimal | str, currency: str, locale: str) -> str:
    """13.900,39 € (de_DE), €13,900.39 (en_GB): never the stored 13900.3900."""
    return format_currency(Decimal(str(amount)), currency, locale=locale)


def offer_summary(offer: Offer, customer_name: str, locale: str) -> str:
    """OFF-2026-0001 · Müller GmbH · 13.900,39 € (the net total: what the approval rules measure)."""
    return f"{offer.label} · {customer_name} · {amount_text(offer.net_total, offer.currency, locale)}"
