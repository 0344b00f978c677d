"""Numbers, amounts, dates and units as people read them, in German or English (Babel, CLDR data).

Every text a person reads (documents, mails, pages, traces, task context) formats through here, so
that an amount reads `13.900,39 €` or `€13,900.39`, never `13900.3900 EUR`, and a quantity reads
`1.200`, never `1200.0000`. Values stored or exchanged by the API stay exact decimal text.

Units: Kontor's catalog stores a unit code per product (`piece`, `hour`, `day`, `month`, `licence` …,
free text). Codes CLDR knows are printed with CLDR's unit names (`babel.units.format_unit`: "5 Tage",
"1 day"); CLDR has no unit for counted things (piece, licence, flat rate, set, user), so OWN_UNITS
holds those names, with singular and plural, in German and English. An unknown code prints as
stored after the number."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_interval, format_time
from babel.numbers import format_currency, format_decimal
from babel.units import format_unit

LANGUAGES = ("de", "en")
LOCALES = {"de": "de_DE", "en": "en_GB"}
QUANTITY_FORMAT = "#,##0.####"  # up to four decimals, none when there are none

# Kontor's unit codes (lower case) → CLDR unit ids
CLDR_UNITS = {
    "second": "duration-second", "minute": "duration-minute", "hour": "duration-hour", "h": "duration-hour",
    "day": "duration-day", "week": "duration-week", "month": "duration-month", "year": "duration-year",
    "g": "mass-gram", "kg": "mass-kilogram", "t": "mass-tonne", "tonne": "mass-tonne",
    "mm": "length-millimeter", "cm": "length-centimeter", "m": "length-meter", "km": "length-kilometer",
    "m2": "area-square-meter", "m3": "volume-cubic-meter", "l": "volume-liter", "litre": "volume-liter",
    "liter": "volume-liter", "kwh": "energy-kilowatt-hour", "gb": "digital-gigabyte", "tb": "digital-terabyte",
}
# Units CLDR lacks: code → language → (singular, plural)
OWN_UNITS = {
    "piece": {"de": ("Stück", "Stück"), "en": ("piece", "pieces")},
    "licence": {"de": ("Lizenz", "Lizenzen"), "en": ("licence", "licences")},
    "license": {"de": ("Lizenz", "Lizenzen"), "en": ("licence", "licences")},
    "flat": {"de": ("pauschal", "pauschal"), "en": ("flat rate", "flat rate")},
    "set": {"de": ("Satz", "Sätze"), "en": ("set", "sets")},
    "user": {"de": ("Benutzer", "Benutzer"), "en": ("user", "users")},
    "package": {"de": ("Paket", "Pakete"), "en": ("package", "packages")},
}


def language(value: str | None, default: str = "de") -> str:
    """One of LANGUAGES from a language tag or an Accept-Language header (`en-GB,en;q=0.9,de;q=0.8`):
    the first listed that Kontor writes, by preference weight; `default` when none is."""
    if not value:
        return default
    ranked = []
    for position, part in enumerate(value.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        if primary in LANGUAGES and weight > 0:
            ranked.append((-weight, position, primary))
    return min(ranked)[2] if ranked else default


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["de"])


def money(amount: Decimal | str | int, currency: str, lang: str) -> str:
    """`13.900,39 €` (de) or `€13,900.39` (en): the currency's own decimals, rounded half even by Babel
    only past them (amounts come rounded to cents already)."""
    return format_currency(Decimal(amount), currency, locale=locale_of(lang))


def quantity(value: Decimal | str | int, lang: str) -> str:
    """`1.200` / `1,200`, `1,5` / `1.5`: grouped, up to four decimals, no trailing zeros."""
    return format_decimal(Decimal(value), format=QUANTITY_FORMAT, locale=locale_of(lang))


def percent(value: Decimal | str | int, lang: str) -> str:
    """A percentage given in percent (19 → `19 %` in German, `19%` in English)."""
    number = quantity(value, lang)
    return f"{number} %" if lang == "de" else f"{number}%"


def day(value: date | datetime, lang: str, form: str = "long") -> str:
    """`5. Dezember 2026` / `5 December 2026` (form "long"), or Babel's "medium"/"short"."""
    return format_date(value, format=form, locale=locale_of(lang))


def day_span(start: date, end: date, lang: str) -> str:
    """A service date or period as short as it reads well: `1.–31. Dez. 2026` / `1–31 Dec 2026`,
    `15. Nov. 2026 – 14. Jan. 2027`; one day alone when start and end are the same day."""
    return str(format_interval(start, end, skeleton="yMMMd", locale=locale_of(lang)))


def time_of_day(value: datetime, lang: str) -> str:
    return format_time(value, format="short", locale=locale_of(lang))


def unit_name(unit: str, value: Decimal | str | int, lang: str) -> str:
    """The unit's name for this quantity without the number, where Kontor knows it ("Stück",
    "licences"); the stored code otherwise. CLDR units come with their number: use with_unit."""
    own = OWN_UNITS.get(unit.strip().lower())
    if own is None:
        return unit
    singular, plural = own.get(lang, own["en"])
    return singular if Locale.parse(locale_of(lang)).plural_form(Decimal(value)) == "one" else plural


def with_unit(value: Decimal | str | int, unit: str | None, lang: str) -> str:
    """A quantity with its unit in the reader's language: `5 Tage`, `1,5 Stunden`, `20 Stück`, `1 day`,
    `3 licences`; an unknown unit code as stored (`7 Palette`)."""
    amount = Decimal(value)
    if not unit:
        return quantity(amount, lang)
    cldr = CLDR_UNITS.get(unit.strip().lower())
    if cldr is not None:
        return str(format_unit(amount, cldr, length="long", format=QUANTITY_FORMAT, locale=locale_of(lang)))
    return f"{quantity(amount, lang)} {unit_name(unit, amount, lang)}"
