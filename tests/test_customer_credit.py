"""A customer's credit from an over-payment settles a later invoice (POST /invoices/{id}/apply-credit),
on SQLite and PostgreSQL: only accounting and managers apply it; never beyond the credit or what is
open, nor while a direct debit collects the invoice; the oldest credit first; the payment then settles
both invoices; the customer's timeline says so; a direct debit collects only what is open; the DATEV
hand-over books the over-payment as money received when it came and its use when it was applied."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

from tests.payment_support import issued_invoices, open_of
from tests.support import ensure_user, ok

TODAY = date.today()


def pay(api, customer: int, amount: str, reference: str) -> dict:
    return ok(api.post("/payments", {"customer_id": customer, "amount": amount, "booking_date": TODAY.isoformat(),
                                     "reference": reference}, user="alma"), 201)


def test_credit_from_an_over_payment_settles_a_later_invoice(kontor, api):
    setup, [first, second, third] = issued_invoices(kontor, api, [3, 1, 1])  # 428.40, 142.80, 142.80
    customer = setup["customer"]["id"]
    older = pay(api, customer, "478.40", f"Re {first['number']}")  # 50.00 too much
    newer = pay(api, customer, "160.00", f"Re {second['number']}")  # 17.20 too much
    assert (older["credit"], newer["credit"]) == ("50.00", "17.20")
    assert open_of(api, customer) == {"items": {third["number"]: "142.80"}, "open_total": "142.80",
                                      "credit": "67.20"}
    path = f"/invoices/{third['id']}/apply-credit"

    ok(api.post(path, {}, user="sam"), 403)  # sales apply no credit
    ensure_user(kontor, "paula-credit", ["portal"], customer_id=customer)
    ok(api.post(path, {}, user="paula-credit"), 404)  # nor does the customer
    too_much = ok(api.post(path, {"amount": "70.00"}, user="alma"), 422)
    assert too_much["error"]["details"] == [{"field": "amount",
                                             "message": "at most the customer's credit: 67.20 EUR"}]
    ok(api.post(f"/invoices/{first['id']}/apply-credit", {}, user="alma"), 409)  # settled already
    ok(api.post("/invoices/999999/apply-credit", {}, user="alma"), 404)

    part = ok(api.post(path, {"amount": "60.00"}, user="alma"))
    assert (part["applied"], part["open_amount"], part["credit_left"]) == ("60.00", "82.80", "7.20")
    assert part["used"] == [{"payment_id": older["id"], "amount": "50.00"},  # the oldest credit first
                            {"payment_id": newer["id"], "amount": "10.00"}]
    rest = ok(api.post(path, {}, user="mona"))  # the rest of the credit, as much as there is
    assert (rest["applied"], rest["open_amount"], rest["credit_left"]) == ("7.20", "75.60", "0.00")
    ok(api.post(path, {}, user="alma"), 409)  # no credit left
    assert open_of(api, customer) == {"items": {third["number"]: "75.60"}, "open_total": "75.60", "credit": "0.00"}

    payments = {p["id"]: p for p in ok(api.get(f"/payments?customer_id={customer}", user="alma"))["items"]}
    assert [(a["invoice_id"], a["kind"], a["amount"], a["applied_on"]) for a in payments[older["id"]]["allocations"]] \
        == [(first["id"], "payment", "428.40", None), (third["id"], "credit", "50.00", TODAY.isoformat())]
    assert payments[older["id"]]["credit"] == "0.00" and payments[newer["id"]]["credit"] == "0.00"
    timeline = ok(api.get(f"/customers/{customer}/traces", user="alma"))["items"]
    applied = [t for t in timeline if t["kind"] == "credit_applied"]
    assert len(applied) == 2 and all(t["actor"] in ("alma", "mona") for t in applied)


def batch(api, date_from: date, date_to: date) -> list[dict[str, str]]:
    """The bookings of a DATEV export of the period, by column name."""
    export = ok(api.post("/exports/datev", {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
                         user="alma"), 201)
    with zipfile.ZipFile(io.BytesIO(api.get(f"/exports/datev/{export['id']}/file", user="alma").content)) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".csv")]
        rows = list(csv.reader(io.StringIO(archive.read(name).decode("cp1252"), newline=""), delimiter=";"))
    columns = rows[1]
    return [{c: v for c, v in zip(columns, row, strict=True) if v} for row in rows[2:]]


def money_rows(rows: list[dict[str, str]]) -> list[tuple]:
    return [(r["Umsatz (ohne Soll/Haben-Kz)"], r["Konto"], r["Gegenkonto (ohne BU-Schlüssel)"], r.get("Belegfeld 1"),
             r["Belegdatum"]) for r in rows if "Rechnung" not in r["Buchungstext"]]


def test_the_over_payment_is_booked_when_received_and_its_use_when_applied(kontor, api):
    """DATEV: the over-payment is money received on the customer's account, in its payment's period, at
    the amount received; the credit applied later is booked in the period it was applied, through the
    transit account, so the earlier period's export stays as it was handed over."""
    setup, [invoice, later] = issued_invoices(kontor, api, [1, 1])  # 142.80 each
    customer = setup["customer"]["id"]
    last_month_end = TODAY.replace(day=1) - timedelta(days=1)
    last_month = (last_month_end.replace(day=1), last_month_end)
    ok(api.post("/payments", {"customer_id": customer, "amount": "150.00", "booking_date": last_month_end.isoformat(),
                              "reference": f"Re {invoice['number']}"}, user="alma"), 201)
    debtor = str(10000 + int(ok(api.get(f"/customers/{customer}", user="alma"))["number"].removeprefix("V-")))
    paid_on = last_month_end.strftime("%d%m")
    before = money_rows(batch(api, *last_month))
    assert before == [("142,80", "1200", debtor, invoice["number"], paid_on), ("7,20", "1200", debtor, None, paid_on)]

    ok(api.post(f"/invoices/{later['id']}/apply-credit", {}, user="alma"))
    assert money_rows(batch(api, *last_month)) == before  # the period handed over does not change
    today = TODAY.strftime("%d%m")
    this_month = [r for r in money_rows(batch(api, TODAY.replace(day=1), TODAY)) if r[3] != invoice["number"]]
    assert this_month == [("7,20", "1590", debtor, later["number"], today),  # credited under the invoice …
                          ("7,20", debtor, "1590", None, today)]  # … debited against the credit


def test_credit_is_not_applied_while_a_direct_debit_collects_and_a_debit_collects_only_what_is_open(kontor, api):
    from tests.test_direct_debits import collect, mandate

    setup, [paid, credited, collected] = issued_invoices(kontor, api, [1, 1, 1])  # 142.80 each
    customer = setup["customer"]["id"]
    pay(api, customer, "160.00", f"Re {paid['number']}")  # paid, 17.20 credit
    ok(api.post(f"/invoices/{credited['id']}/apply-credit", {}, user="alma"))  # 125.60 left open
    mandate(api, customer, "M-CREDIT-1")
    run = collect(api)
    assert sorted((item["invoice_id"], item["amount"]) for item in run["items"]) == sorted(
        [(credited["id"], "125.60"), (collected["id"], "142.80")])  # the paid one not, the credited one's rest
    ok(api.post("/payments", {"customer_id": customer, "amount": "30.00", "booking_date": TODAY.isoformat(),
                              "allocations": [{"invoice_id": credited["id"], "amount": "10.00"}]}, user="alma"), 201)
    refused = ok(api.post(f"/invoices/{collected['id']}/apply-credit", {}, user="alma"), 409)  # 20.00 credit waits
    assert "direct debit" in refused["error"]["message"]
    assert open_of(api, customer)["credit"] == "20.00"
