"""What people read: amounts by currency and locale, quantities without trailing zeros, CLDR unit
names (and Kontor's own for units CLDR lacks), the reader's language, salutations, and traces
rendered per reader from their kind and parameters (older traces as stored)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.customers.letters import salutation
from domain.customers.models import Contact
from domain.customers.timeline import Trace, money_param, set_trace_texts, summary_in, word_param
from kernel import formatting

NBSP = "\xa0"


def test_amounts_by_currency_and_locale():
    assert formatting.money(Decimal("13900.3900"), "EUR", "de") == f"13.900,39{NBSP}€"
    assert formatting.money(Decimal("13900.3900"), "EUR", "en") == "€13,900.39"
    assert formatting.money("1200", "CHF", "de") == f"1.200,00{NBSP}CHF"
    assert formatting.money(Decimal("5"), "JPY", "en") == "JP¥5"  # the currency's own decimals


def test_quantities_lose_trailing_zeros():
    assert formatting.quantity(Decimal("1200.0000"), "de") == "1.200"
    assert formatting.quantity(Decimal("1200.0000"), "en") == "1,200"
    assert formatting.quantity(Decimal("1.5000"), "de") == "1,5"
    assert formatting.percent(Decimal("19.00"), "de") == "19 %" and formatting.percent(Decimal("7.5"), "en") == "7.5%"


@pytest.mark.parametrize(("quantity", "unit", "lang", "expected"), [
    ("5", "day", "de", "5 Tage"), ("1", "day", "de", "1 Tag"), ("1", "day", "en", "1 day"),
    ("1.5000", "hour", "de", "1,5 Stunden"), ("1200.0000", "hour", "en", "1,200 hours"),
    ("3", "month", "de", "3 Monate"), ("2", "kg", "de", "2 Kilogramm"),
    ("20", "piece", "de", "20 Stück"), ("1", "piece", "en", "1 piece"), ("20", "piece", "en", "20 pieces"),
    ("1", "licence", "de", "1 Lizenz"), ("3", "licence", "de", "3 Lizenzen"), ("3", "Licence", "en", "3 licences"),
    ("7", "Palette", "de", "7 Palette"),  # unknown: as stored
    ("4", None, "de", "4"),
])
def test_units_in_the_documents_language(quantity, unit, lang, expected):
    assert formatting.with_unit(Decimal(quantity), unit, lang) == expected


@pytest.mark.parametrize(("header", "expected"), [
    (None, "de"), ("", "de"), ("en", "en"), ("en-GB,en;q=0.9,de;q=0.8", "en"), ("de-CH", "de"),
    ("fr-FR,en;q=0.5,de;q=0.7", "de"), ("fr", "de"), ("en;q=0,de;q=0.1", "de"), ("en;q=x", "de"),
    ("EN_us", "en"),
])
def test_the_readers_language(header, expected):
    assert formatting.language(header) == expected


def test_dates_in_the_readers_language():
    assert formatting.day(date(2026, 12, 5), "de") == "5. Dezember 2026"
    assert formatting.day(date(2026, 12, 5), "en") == "5 December 2026"


@pytest.mark.parametrize(("stored", "lang", "expected"), [
    ("Frau", "de", "Sehr geehrte Frau Schmidt,"), ("Herr", "de", "Sehr geehrter Herr Schmidt,"),
    ("Frau Dr.", "de", "Sehr geehrte Frau Dr. Schmidt,"),
    ("Herr Prof. Dr.", "de", "Sehr geehrter Herr Prof. Dr. Schmidt,"),
    ("Frau", "en", "Dear Ms Schmidt,"), ("Mr", "en", "Dear Mr Schmidt,"), ("Mrs", "de", "Sehr geehrte Frau Schmidt,"),
    ("Herr Dr.", "en", "Dear Dr Schmidt,"),
    (None, "de", "Sehr geehrte Damen und Herren,"), ("Dr.", "de", "Sehr geehrte Damen und Herren,"),
    (None, "en", "Dear Sir or Madam,"),
])
def test_salutations_from_the_stored_form_of_address(stored, lang, expected):
    contact = Contact(salutation=stored, first_name="Petra", last_name="Schmidt")
    assert salutation(contact, lang) == expected


def test_no_contact_is_greeted_neutrally():
    assert salutation(None, "de") == "Sehr geehrte Damen und Herren," and salutation(None, "en") == "Dear Sir or Madam,"


@pytest.fixture
def own_texts():
    """The trace texts of this test only; the modules' texts again afterwards."""
    from domain.customers import timeline

    kept = timeline._texts
    yield
    timeline._texts = kept


def test_traces_render_per_reader_and_older_ones_read_as_stored(own_texts):
    set_trace_texts([("order_created", "Auftrag {order} ({total})", "order {order} ({total})"),
                     ("offer_accepted", "Angebot {offer} angenommen ({via})", "offer {offer} accepted ({via})"),
                     ("customer_activated.order", "aktiv seit {order}", "active since {order}")])
    new = Trace(kind="order_created", summary="order ORD-1 (€13,900.39)",
                details={"params": {"order": "ORD-1", "total": money_param(Decimal("13900.3900"), "EUR")}})
    assert summary_in(new, "de") == f"Auftrag ORD-1 (13.900,39{NBSP}€)"
    assert summary_in(new, "en") == "order ORD-1 (€13,900.39)"
    via = Trace(kind="offer_accepted", summary="x", details={"params": {"offer": "OFF-1", "via": word_param("mail")}})
    assert (summary_in(via, "de"), summary_in(via, "en")) == ("Angebot OFF-1 angenommen (per E-Mail)",
                                                              "offer OFF-1 accepted (by mail)")
    variant = Trace(kind="customer_activated", summary="x", details={"params": {"variant": "order", "order": "O"}})
    assert summary_in(variant, "de") == "aktiv seit O"
    old = Trace(kind="order_created", summary="order ORD-1 from offer OFF-1 (13900.3900 EUR)", details={})
    assert summary_in(old, "de") == old.summary  # stored before traces had parameters
    broken = Trace(kind="order_created", summary="stored", details={"params": {"order": "ORD-1"}})
    assert summary_in(broken, "en") == "stored"  # parameters that do not fit the text
    unknown = Trace(kind="note_added", summary="Rückruf am Montag", details={"params": {"x": 1}})
    assert summary_in(unknown, "en") == "Rückruf am Montag"
