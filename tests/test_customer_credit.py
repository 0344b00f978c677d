"""A customer's credit from an over-payment settles a later invoice (POST /invoices/{id}/apply-credit),
on SQLite and PostgreSQL: only accounting and managers apply it; never beyond the credit or what is
open; the oldest credit first; the payment then settles both invoices; the customer's timeline says
so; the DATEV hand-over books the over-payment as money received, so the bank's total is whole."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

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
    assert [(a["invoice_id"], a["amount"]) for a in payments[older["id"]]["allocations"]] == [
        (first["id"], "428.40"), (third["id"], "50.00")]
    assert payments[older["id"]]["credit"] == "0.00" and payments[newer["id"]]["credit"] == "0.00"
    timeline = ok(api.get(f"/customers/{customer}/traces", user="alma"))["items"]
    applied = [t for t in timeline if t["kind"] == "credit_applied"]
    assert len(applied) == 2 and all(t["actor"] in ("alma", "mona") for t in applied)


def test_the_over_payment_is_money_received_in_the_datev_hand_over(kontor, api):
    setup, [invoice] = issued_invoices(kontor, api, [1])  # 142.80
    customer = setup["customer"]["id"]
    pay(api, customer, "150.00", f"Re {invoice['number']}")
    period = {"date_from": TODAY.replace(day=1).isoformat(), "date_to": TODAY.isoformat()}
    export = ok(api.post("/exports/datev", period, user="alma"), 201)
    with zipfile.ZipFile(io.BytesIO(api.get(f"/exports/datev/{export['id']}/file", user="alma").content)) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".csv")]
        rows = list(csv.reader(io.StringIO(archive.read(name).decode("cp1252"), newline=""), delimiter=";"))
    columns, bookings = rows[1], rows[2:]
    picked = [{c: v for c, v in zip(columns, row, strict=True) if v} for row in bookings]
    money = [(b["Umsatz (ohne Soll/Haben-Kz)"], b["Konto"], b.get("Belegfeld 1")) for b in picked
             if b["Konto"] == "1200"]
    assert money == [("142,80", "1200", invoice["number"]), ("7,20", "1200", None)]
    assert picked[-1]["Buchungstext"] == f"Überzahlung Re {invoice['number']}"
