"""The DATEV export through the API, on SQLite and PostgreSQL: a period's invoices (19 % and 7 %), a
reverse-charge and intra-community invoice and a credit note become the expected rows of the EXTF
Buchungsstapel, read back as the tax advisor's import reads it (Windows-1252, ';'); the invoices'
files lie beside it under their Beleglink names; a second export of the period has the same rows, a
download the same bytes; an empty period gives the header only; payments plug in through the
PaymentSource; only accounting and managers export."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

from domain.accounting.datev import PaymentBooking, SkontoBooking
from domain.accounting.datev_format import COLUMNS
from domain.accounting.exports import create_export
from kernel.documents import DocumentStore
from kernel.principal import Principal
from tests.invoice_support import deliver, draft, issue_now, order_of, sales_setup
from tests.support import ensure_user, ok
from tests.test_direct_debits import another_customer

TODAY = date.today()
PERIOD = {"date_from": TODAY.replace(day=1).isoformat(), "date_to": TODAY.isoformat()}


def invoiced(kontor, api, setup, quantities: dict[str, str]) -> dict:
    """An issued invoice of these products (key → quantity), all delivered."""
    lines = [{"product_id": setup["products"][key]["id"], "quantity": q} for key, q in quantities.items()]
    order = order_of(kontor, api, setup, lines=lines)
    deliver(api, order, {position: q for position, q in enumerate(quantities.values(), start=1)})
    [invoice] = draft(api, order_id=order["id"])
    return issue_now(kontor, api, invoice)


def read_zip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_batch(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """(header row, bookings by column name) as DATEV's import reads the file."""
    assert b"\r\n" in content and not content.decode("cp1252").replace("\r\n", "").count("\n")
    rows = list(csv.reader(io.StringIO(content.decode("cp1252"), newline=""), delimiter=";"))
    header, columns, *bookings = rows
    assert tuple(columns) == COLUMNS and all(len(row) == len(COLUMNS) for row in bookings)
    return header, [{name: value for name, value in zip(columns, row, strict=True) if value} for row in bookings]


def debtor(api, customer_id: int) -> str:
    return str(10000 + int(ok(api.get(f"/customers/{customer_id}", user="alma"))["number"].removeprefix("V-")))


def test_a_period_becomes_the_expected_bookings_with_the_files_beside_them(kontor, api):
    setup = sales_setup(api)
    vienna = another_customer(api, setup, "Wiener Technik GmbH", country="AT", vat_id="ATU13585627",
                              tax_treatment="eu_reverse_charge",
                              main_address={"street": "Ringstraße 1", "postal_code": "1010", "city": "Wien",
                                            "country": "AT"})
    book = setup["products"]["book"]["id"]
    ok(api.patch(f"/products/{book}", {"kind": "goods", "version": api.version(f"/products/{book}")}, user="mona"))
    domestic = invoiced(kontor, api, setup, {"consulting": "10", "book": "4"})
    reverse = invoiced(kontor, api, vienna, {"consulting": "2", "book": "1"})
    note = ok(api.post(f"/invoices/{domestic['id']}/credit-notes", {"reason": "Handbücher zurück", "lines": [
        {"invoice_line_id": line["id"], "quantity": "1"} for line in domestic["lines"] if line["tax_rate"] == "7.00"]},
        user="alma"), 201)
    note = issue_now(kontor, api, note)

    export = ok(api.post("/exports/datev", PERIOD, user="alma"), 201)
    assert (export["row_count"], export["document_count"]) == (5, 3)
    stem = f"{TODAY.replace(day=1):%Y%m%d}_{TODAY:%Y%m%d}"
    assert export["filename"] == f"DATEV_{stem}.zip"
    download = api.get(f"/exports/datev/{export['id']}/file", user="alma")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    files = read_zip(download.content)
    names = [domestic["number"], reverse["number"], note["number"]]
    assert sorted(files) == sorted([f"EXTF_Buchungsstapel_{stem}.csv", *(f"{n}.xml" for n in names)])
    assert files[f"{domestic['number']}.xml"].startswith(b"<?xml")
    header, rows = read_batch(files[f"EXTF_Buchungsstapel_{stem}.csv"])
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert header[10:16] == ["1001", "1", f"{TODAY.year}0101", "4", PERIOD["date_from"].replace("-", ""),
                             PERIOD["date_to"].replace("-", "")]
    day = TODAY.strftime("%d%m")
    acme, wien = debtor(api, setup["customer"]["id"]), debtor(api, vienna["customer"]["id"])
    picked = [(r["Umsatz (ohne Soll/Haben-Kz)"], r["Soll/Haben-Kennzeichen"], r["Konto"],
               r["Gegenkonto (ohne BU-Schlüssel)"], r["Belegdatum"], r["Belegfeld 1"], r.get("Belegfeld 2"),
               r.get("EU-Land u. UStID (Bestimmung)"), r.get("Beleglink")) for r in rows]
    # 10 h × 120.00 at 19 % = 1,428.00; 4 × 39.90 at 7 % = 170.77; in Austria 2 h (reverse charge) and
    # one book (intra-community supply) without tax; the credit note takes one book back: 42.69
    assert picked == [
        ("1428,00", "S", acme, "8400", day, domestic["number"], None, None, f"{domestic['number']}.xml"),
        ("170,77", "S", acme, "8300", day, domestic["number"], None, None, f"{domestic['number']}.xml"),
        ("240,00", "S", wien, "8336", day, reverse["number"], None, "ATU13585627", f"{reverse['number']}.xml"),
        ("39,90", "S", wien, "8125", day, reverse["number"], None, "ATU13585627", f"{reverse['number']}.xml"),
        ("42,69", "H", acme, "8300", day, domestic["number"], note["number"], None, f"{note['number']}.xml"),
    ]
    assert rows[0]["Fälligkeit"] == date.fromisoformat(domestic["due_date"]).strftime("%d%m%Y")
    assert rows[4]["Buchungstext"].startswith(f"Gutschrift {note['number']} zu {domestic['number']}")

    # again: the same rows; the first download stays byte for byte what it was
    again = ok(api.post("/exports/datev", PERIOD, user="mona"), 201)
    second = read_zip(api.get(f"/exports/datev/{again['id']}/file", user="alma").content)
    first_lines = files[f"EXTF_Buchungsstapel_{stem}.csv"].split(b"\r\n")
    second_lines = second[f"EXTF_Buchungsstapel_{stem}.csv"].split(b"\r\n")
    assert first_lines[1:] == second_lines[1:]
    assert first_lines[0].split(b";")[:5] + first_lines[0].split(b";")[6:] == \
        second_lines[0].split(b";")[:5] + second_lines[0].split(b";")[6:]
    assert api.get(f"/exports/datev/{export['id']}/file", user="alma").content == download.content
    listed = ok(api.get("/exports/datev", user="alma"))
    assert [e["id"] for e in listed["items"]] == [again["id"], export["id"]] and listed["total"] == 2


def test_an_empty_period_gives_the_header_only_and_a_period_spans_one_fiscal_year(api):
    last_year = {"date_from": f"{TODAY.year - 1}-01-01", "date_to": f"{TODAY.year - 1}-01-31"}
    export = ok(api.post("/exports/datev", last_year, user="alma"), 201)
    assert (export["row_count"], export["document_count"]) == (0, 0)
    files = read_zip(api.get(f"/exports/datev/{export['id']}/file", user="alma").content)
    [content] = files.values()
    header, rows = read_batch(content)
    assert rows == [] and header[14:16] == [f"{TODAY.year - 1}0101", f"{TODAY.year - 1}0131"]
    answer = ok(api.post("/exports/datev", {"date_from": f"{TODAY.year - 1}-12-01",
                                            "date_to": f"{TODAY.year}-01-31"}, user="alma"), 422)
    assert [d["field"] for d in answer["error"]["details"]] == ["date_to"]
    answer = ok(api.post("/exports/datev", {"date_from": f"{TODAY.year - 1}-03-10",
                                            "date_to": f"{TODAY.year - 1}-03-01"}, user="alma"), 422)
    assert [d["field"] for d in answer["error"]["details"]] == ["date_to"]
    assert ok(api.get("/exports/datev", user="alma"))["total"] == 1  # the refused ones left no record


def test_payments_and_skonto_come_in_through_the_payment_source(kontor, api):
    setup = sales_setup(api)
    invoice = invoiced(kontor, api, setup, {"consulting": "1"})
    customer = int(ok(api.get(f"/customers/{setup['customer']['id']}", user="alma"))["number"].removeprefix("V-"))
    asked = []

    def payments(session, date_from, date_to):
        asked.append((date_from, date_to))
        return [PaymentBooking(invoice["number"], TODAY, customer, Decimal("139.94"), mandate_reference="M-1"),
                SkontoBooking(invoice["number"], TODAY, customer, ((Decimal(19), Decimal("2.86")),))]

    start = TODAY.replace(day=1)
    with kontor.transaction() as session:
        export = create_export(session, Principal("alma", frozenset({"accounting"})), kontor.settings,
                               DocumentStore.under(kontor.settings.data_dir), start, TODAY, payments)
        export_id, rows = export.id, export.row_count
    assert asked == [(start, TODAY)] and rows == 3
    files = read_zip(api.get(f"/exports/datev/{export_id}/file", user="alma").content)
    _, bookings = read_batch(next(content for name, content in files.items() if name.endswith(".csv")))
    assert [(b["Umsatz (ohne Soll/Haben-Kz)"], b["Konto"], b["Gegenkonto (ohne BU-Schlüssel)"],
             b.get("SEPA-Mandatsreferenz")) for b in bookings[1:]] == [
        ("139,94", "1200", str(10000 + customer), "M-1"), ("2,86", "8736", str(10000 + customer), None)]


def test_down_payments_are_booked_once_through_the_down_payment_accounts(kontor, api):
    """A down-payment invoice is an open item, no revenue; its payment is a taxed down payment (1718
    at 19 %, 1711 at 7 %, via the clearing account 1593); the final invoice books the whole revenue and
    releases the down payment to the customer's account. Revenue is counted once, the customer's
    account ends at zero, the down-payment accounts too."""
    setup = sales_setup(api)
    order = order_of(kontor, api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "10"},
                                                {"product_id": setup["products"]["book"]["id"], "quantity": "10"}])
    [first] = ok(api.put(f"/orders/{order['id']}/billing", {"billing_plan": "milestones", "milestones": [
        {"label": "bei Auftrag", "percent": "30"}]}, user="sam"))
    down = issue_now(kontor, api, ok(api.post(f"/orders/{order['id']}/down-payments", {"milestone_id": first["id"]},
                                              user="alma"), 201))
    assert down["gross_total"] == "556.48"  # 360.00 + 68.40 at 19 %, 119.70 + 8.38 at 7 %
    customer = setup["customer"]["id"]
    ok(api.post("/payments", {"customer_id": customer, "amount": "556.48", "booking_date": TODAY.isoformat(),
                              "reference": down["number"]}, user="alma"), 201)
    deliver(api, order, {1: "10", 2: "10"})
    [final] = draft(api, order_id=order["id"])
    final = issue_now(kontor, api, final)
    assert (final["gross_total"], final["prepaid_total"], final["amount_due"]) == ("1854.93", "556.48", "1298.45")
    ok(api.post("/payments", {"customer_id": customer, "amount": "1298.45", "booking_date": TODAY.isoformat(),
                              "reference": final["number"]}, user="alma"), 201)

    export = ok(api.post("/exports/datev", PERIOD, user="alma"), 201)
    files = read_zip(api.get(f"/exports/datev/{export['id']}/file", user="alma").content)
    _, rows = read_batch(next(content for name, content in files.items() if name.endswith(".csv")))
    acme = debtor(api, customer)
    picked = [(r["Umsatz (ohne Soll/Haben-Kz)"], r["Soll/Haben-Kennzeichen"], r["Konto"],
               r["Gegenkonto (ohne BU-Schlüssel)"], r["Belegfeld 1"], r.get("Belegfeld 2")) for r in rows]
    assert picked == [
        ("428,40", "S", acme, "1593", down["number"], None),  # the down-payment invoice: no revenue, no tax
        ("128,08", "S", acme, "1593", down["number"], None),
        ("1428,00", "S", acme, "8400", final["number"], None),  # the final invoice: all its revenue
        ("426,93", "S", acme, "8300", final["number"], None),
        ("428,40", "S", "1718", acme, final["number"], None),  # the down payment released
        ("128,08", "S", "1711", acme, final["number"], None),
        ("556,48", "S", "1200", acme, down["number"], None),  # the down payment's money …
        ("428,40", "S", "1593", "1718", down["number"], None),  # … taxed when it comes
        ("128,08", "S", "1593", "1711", down["number"], None),
        ("1298,45", "S", "1200", acme, final["number"], None),
    ]
    balance: dict[str, Decimal] = {}
    for amount, side, account, contra, *_ in picked:
        value = Decimal(amount.replace(",", ".")) * (1 if side == "S" else -1)
        balance[account] = balance.get(account, Decimal(0)) + value
        balance[contra] = balance.get(contra, Decimal(0)) - value
    assert balance[acme] == balance["1593"] == balance["1718"] == balance["1711"] == 0
    assert -(balance["8400"] + balance["8300"]) == Decimal("1854.93")  # the final invoice's gross, once
    assert rows[4]["Buchungstext"] == f"Anzahlung {down['number']} verrechnet"


def test_only_accounting_and_managers_export(kontor, api):
    setup = sales_setup(api)
    ensure_user(kontor, "pia-datev", ["portal"], customer_id=setup["customer"]["id"])
    export = ok(api.post("/exports/datev", PERIOD, user="mona"), 201)
    for user in ("sam", "olga", "pia-datev", "rolf"):
        assert ok(api.post("/exports/datev", PERIOD, user=user), 403)["error"]["code"] == "forbidden"
        ok(api.get("/exports/datev", user=user), 403)
        ok(api.get(f"/exports/datev/{export['id']}/file", user=user), 403)
    ok(api.get("/exports/datev/999999/file", user="alma"), 404)
    assert ok(api.get("/exports/datev", user="alma"))["total"] == 1


def test_settings_choose_the_chart_the_account_length_and_the_fiscal_year():
    from domain.accounting.settings import DatevSettings, chart_of, fiscal_year_start

    chart = chart_of(DatevSettings(datev_chart="SKR04", datev_account_length=5, datev_fiscal_year_start_month=7))
    assert (chart.bank, chart.revenue[("domestic", "19")], chart.debtor_account(12)) == ("18000", "44000", "100012")
    assert fiscal_year_start(DatevSettings(datev_fiscal_year_start_month=7), date(2026, 3, 5)) == date(2025, 7, 1)
    assert chart_of(DatevSettings()).debtor_account(12) == "10012"
