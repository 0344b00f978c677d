"""The DATEV Buchungsstapel: header row, the 125 columns in DATEV's order, one row per booking with
the accounts of the configured chart, amounts with a decimal comma, CRLF, Windows-1252; re-read with
the csv module it gives the expected fields, and the same input gives the same bytes."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest

from domain.accounting.charts import SKR03, SKR04, AccountingError, ChartOfAccounts
from domain.accounting.datev import (
    BatchHeader,
    CreditNoteBooking,
    InvoiceBooking,
    PaymentBooking,
    RevenuePortion,
    SkontoBooking,
    credit_note_rows,
    invoice_rows,
    payment_rows,
    skonto_rows,
    write_buchungsstapel,
)
from domain.accounting.datev_format import COLUMNS

HEADER = BatchHeader(consultant_number=1234567, client_number=42, fiscal_year_start=date(2026, 1, 1),
                     date_from=date(2026, 12, 1), date_to=date(2026, 12, 31),
                     created_at=datetime(2026, 12, 6, 10, 30, 15, 123000, tzinfo=timezone.utc),
                     description="Rechnungen Dezember 2026")
INVOICE = InvoiceBooking(number="INV-2026-0012", issue_date=date(2026, 12, 2), customer_number=42,
                         customer_name='Müller "Maschinenbau" GmbH',
                         portions=(RevenuePortion("domestic", D(19), D("1190.00")),
                                   RevenuePortion("domestic", D(7), D("535.00"))),
                         pdf_name="INV-2026-0012.pdf", due_date=date(2026, 12, 16))


def bookings(chart=SKR03):
    reverse_charge = InvoiceBooking(number="INV-2026-0013", issue_date=date(2026, 12, 3), customer_number=7,
                                    customer_name="Dupont SARL", vat_id="FR 40303265045",
                                    portions=(RevenuePortion("reverse_charge_services", D(0), D("2500.00")),))
    credit = CreditNoteBooking(number="CN-2026-0003", issue_date=date(2026, 12, 5), invoice_number="INV-2026-0012",
                               customer_number=42, customer_name="Müller Maschinenbau GmbH",
                               portions=(RevenuePortion("domestic", D(19), D("119.00")),))
    payment = PaymentBooking(invoice_number="INV-2026-0012", booking_date=date(2026, 12, 10), customer_number=42,
                             amount=D("1690.50"))
    skonto = SkontoBooking(invoice_number="INV-2026-0012", booking_date=date(2026, 12, 10), customer_number=42,
                           shares=((D(19), D("23.80")), (D(7), D("10.70"))))
    return [*invoice_rows(INVOICE, chart), *invoice_rows(reverse_charge, chart), *credit_note_rows(credit, chart),
            *payment_rows(payment, chart), *skonto_rows(skonto, chart)]


def read_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))


def test_header_row_describes_the_batch():
    header = read_back(write_buchungsstapel(HEADER, bookings()))[0]
    assert len(header) == 31
    assert header[:6] == ["EXTF", "700", "21", "Buchungsstapel", "13", "20261206103015123"]
    assert header[7:9] == ["RE", "Kontor"]
    assert header[10:16] == ["1234567", "42", "20260101", "4", "20261201", "20261231"]
    assert (header[16], header[18], header[20], header[21], header[26]) == (
        "Rechnungen Dezember 2026", "1", "0", "EUR", "03")


def test_column_row_and_booking_rows():
    rows = read_back(write_buchungsstapel(HEADER, bookings()))
    assert tuple(rows[1]) == COLUMNS and len(COLUMNS) == 125
    assert all(len(row) == 125 for row in rows[1:])
    booked = [dict(zip(COLUMNS, row, strict=True)) for row in rows[2:]]
    pick = ("Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
            "Belegdatum", "Belegfeld 1", "Belegfeld 2")
    assert [tuple(b[c] for c in pick) for b in booked] == [
        ("1190,00", "S", "10042", "8400", "0212", "INV-2026-0012", ""),
        ("535,00", "S", "10042", "8300", "0212", "INV-2026-0012", ""),
        ("2500,00", "S", "10007", "8336", "0312", "INV-2026-0013", ""),
        ("119,00", "H", "10042", "8400", "0512", "INV-2026-0012", "CN-2026-0003"),
        ("1690,50", "S", "1200", "10042", "1012", "INV-2026-0012", ""),
        ("23,80", "S", "8736", "10042", "1012", "INV-2026-0012", ""),
        ("10,70", "S", "8731", "10042", "1012", "INV-2026-0012", ""),
    ]
    first = booked[0]
    assert first["WKZ Umsatz"] == "EUR"
    assert first["Buchungstext"] == 'Rechnung INV-2026-0012 Müller "Maschinenbau" GmbH'
    assert (first["Beleglink"], first["Fälligkeit"]) == ("INV-2026-0012.pdf", "16122026")
    assert booked[2]["EU-Land u. UStID (Bestimmung)"] == "FR40303265045"
    assert booked[0]["EU-Land u. UStID (Bestimmung)"] == ""


def test_file_layout_quotes_crlf_and_encoding():
    data = write_buchungsstapel(HEADER, bookings())
    assert data.count(b"\r\n") == 9 and data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert '"Rechnung INV-2026-0012 Müller ""Maschinenbau"" GmbH"'.encode("cp1252") in data
    assert b"1190,00;\"S\";\"EUR\";;;;10042;8400;" in data
    assert "Müller".encode("cp1252") in data and "Müller".encode() not in data


def test_the_same_input_gives_the_same_bytes():
    assert write_buchungsstapel(HEADER, bookings()) == write_buchungsstapel(HEADER, bookings())
    assert write_buchungsstapel(HEADER, bookings()) != write_buchungsstapel(
        replace(HEADER, created_at=datetime(2026, 12, 6, 10, 30, 16, tzinfo=timezone.utc)), bookings())


def test_characters_windows_1252_cannot_hold():
    polish = replace(INVOICE, customer_name="Łódź Trading")
    data = write_buchungsstapel(HEADER, invoice_rows(polish, SKR03))
    assert read_back(data)[2][COLUMNS.index("Buchungstext")] == "Rechnung INV-2026-0012 ?ód? Trading"
    with pytest.raises(AccountingError, match="Beleglink .* Windows-1252"):
        write_buchungsstapel(HEADER, invoice_rows(replace(INVOICE, pdf_name="Łódź.pdf"), SKR03))


def test_long_texts_are_cut_and_long_identifiers_refused():
    long_name = replace(INVOICE, customer_name="A" * 80)
    text = read_back(write_buchungsstapel(HEADER, invoice_rows(long_name, SKR03)))[2][COLUMNS.index("Buchungstext")]
    assert len(text) == 60
    with pytest.raises(AccountingError, match="Belegfeld 1 .* longer than 36"):
        write_buchungsstapel(HEADER, invoice_rows(replace(INVOICE, number="X" * 37), SKR03))


def test_skr04_and_a_configured_chart():
    rows = read_back(write_buchungsstapel(replace(HEADER, skr="04"), bookings(SKR04)))
    accounts = [(row[6], row[7]) for row in rows[2:]]
    assert accounts == [("10042", "4400"), ("10042", "4300"), ("10007", "4336"), ("10042", "4400"),
                        ("1800", "10042"), ("4736", "10042"), ("4731", "10042")]
    advisor = replace(SKR03, name="Kanzlei", bank="1210", revenue={**SKR03.revenue, ("domestic", "19"): "8401"},
                      tax_keys={("domestic", "19"): "3"})
    row = read_back(write_buchungsstapel(HEADER, invoice_rows(INVOICE, advisor)))[2]
    assert (row[7], row[8]) == ("8401", "3")


def test_refusals_name_what_is_wrong():
    with pytest.raises(AccountingError, match="outside the batch"):
        write_buchungsstapel(replace(HEADER, date_to=date(2026, 12, 9)), bookings())
    with pytest.raises(AccountingError, match="within the fiscal year"):
        write_buchungsstapel(replace(HEADER, date_to=date(2027, 1, 5)), [])
    with pytest.raises(AccountingError, match="no revenue account for domestic at 5.5 %"):
        invoice_rows(replace(INVOICE, portions=(RevenuePortion("domestic", D("5.5"), D("105.50")),)), SKR03)
    with pytest.raises(AccountingError, match="needs the customer's VAT ID"):
        invoice_rows(replace(INVOICE, portions=(RevenuePortion("intra_community_supply", D(0), D("100.00")),)),
                     SKR03)
    with pytest.raises(AccountingError, match="outside 10000–69999"):
        SKR03.debtor_account(60000)
    with pytest.raises(AccountingError, match="not a positive amount"):
        payment_rows(PaymentBooking("INV-2026-0012", date(2026, 12, 10), 42, D("-5.00")), SKR03)
    assert isinstance(SKR03, ChartOfAccounts)
