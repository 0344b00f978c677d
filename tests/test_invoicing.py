"""Order to invoice through the API and the invoice's process (real Prefect flow runs), on SQLite and
PostgreSQL: deliveries move the order, drafts hold
what was delivered and not yet invoiced, the issue gives the next number and fixes sums, dates and
parties, and an issued invoice is corrected only by a credit note of its own series."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from domain.customers.models import Address
from tests.invoice_support import deliver, draft, issue, issue_now, order_of, sales_setup
from tests.support import ok

SENDS = pytest.mark.usefixtures("mail")  # the worker sends the invoices over SMTP


@SENDS
def test_two_partial_deliveries_become_two_invoices_and_the_order_follows(kontor, api):
    setup = sales_setup(api)
    consulting, book = setup["products"]["consulting"]["id"], setup["products"]["book"]["id"]
    order = order_of(kontor, api, setup, lines=[{"product_id": consulting, "quantity": "10"},
                                                {"product_id": book, "quantity": "4"}])
    assert order["status"] == "confirmed" and order["billing_plan"] == "on_delivery"

    first = deliver(api, order, {1: "6", 2: "4"}, service_from="2026-11-02", service_to="2026-11-06")
    assert [line["quantity"] for line in first["lines"]] == ["6", "4"] or \
        [Decimal(line["quantity"]) for line in first["lines"]] == [Decimal(6), Decimal(4)]
    assert ok(api.get(f"/orders/{order['id']}"))["status"] == "partly_delivered"

    [invoice] = draft(api, order_id=order["id"])
    assert invoice["status"] == "draft" and invoice["number"] is None
    assert [(Decimal(li["quantity"]), li["net"], li["tax_rate"], li["tax_category"]) for li in invoice["lines"]] == [
        (Decimal(6), "720.00", "19.00", "S"), (Decimal(4), "159.60", "7.00", "S")]
    issued = issue(kontor, api, invoice)
    year = date.today().year
    assert issued["number"] == f"INV-{year}-0001" and issued["status"] == "issued"
    # 720.00 at 19 % = 136.80; 159.60 at 7 % = 11.17
    assert (issued["net_total"], issued["tax_total"], issued["gross_total"]) == ("879.60", "147.97", "1027.57")
    assert issued["tax_groups"] == [{"category": "S", "rate": "19.00", "net": "720.00", "tax": "136.80"},
                                    {"category": "S", "rate": "7.00", "net": "159.60", "tax": "11.17"}]
    assert (issued["service_from"], issued["service_to"]) == ("2026-11-02", "2026-11-06")
    assert issued["due_date"] == (date.fromisoformat(issued["issue_date"]) + timedelta(days=30)).isoformat()
    assert issued["buyer"]["name"] == "ACME Maschinenbau GmbH" and issued["buyer"]["city"] == "Stuttgart"
    assert issued["seller"]["vat_id"] and issued["seller"]["street"]
    assert ok(api.get(f"/orders/{order['id']}"))["status"] == "partly_invoiced"

    ok(api.post("/invoices", {"order_id": order["id"]}, user="alma"), 409)  # nothing left to invoice yet
    deliver(api, order, {1: "4"}, service_from="2026-11-20")
    assert ok(api.get(f"/orders/{order['id']}"))["status"] == "partly_invoiced"
    [second] = draft(api, order_id=order["id"])
    assert [Decimal(li["quantity"]) for li in second["lines"]] == [Decimal(4)]
    assert issue(kontor, api, second)["number"] == f"INV-{year}-0002"
    order = ok(api.get(f"/orders/{order['id']}"))
    assert order["status"] == "invoiced"
    assert [(Decimal(li["delivered_quantity"]), Decimal(li["invoiced_quantity"])) for li in order["lines"]] == [
        (Decimal(10), Decimal(10)), (Decimal(4), Decimal(4))]


def test_a_delivery_beyond_the_order_or_a_backward_period_is_refused_naming_the_field(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    line = order["lines"][0]["id"]
    answer = ok(api.post(f"/orders/{order['id']}/deliveries", {"lines": [
        {"order_line_id": line, "quantity": "11"}]}, user="sam"), 422)
    assert answer["error"]["details"][0]["field"] == "lines.0.quantity"
    assert "10 hour are still open" in answer["error"]["details"][0]["message"]
    answer = ok(api.post(f"/orders/{order['id']}/deliveries", {"lines": [
        {"order_line_id": line, "quantity": "1", "service_from": "2026-11-10", "service_to": "2026-11-01"}]},
        user="sam"), 422)
    assert answer["error"]["details"][0]["field"] == "lines.0.service_to"
    ok(api.post(f"/orders/{order['id']}/deliveries", {"lines": [{"order_line_id": line, "quantity": "1"}]},
                user="rolf"), 403)  # a reviewer is no salesperson of this customer


def test_issued_invoices_are_answered_as_they_are_and_drafts_change_with_their_version(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    [invoice] = draft(api, order_id=order["id"])
    ok(api.patch(f"/invoices/{invoice['id']}", {"note": "Projekt Alpha"}, user="alma"), 428)
    line = invoice["lines"][0]
    changed = ok(api.patch(f"/invoices/{invoice['id']}", {
        "version": invoice["version"], "note": "Projekt Alpha",
        "lines": [{"id": line["id"], "unit_price": "110.00"}]}, user="alma"))
    assert changed["manual_prices"] is True and changed["lines"][0]["price_changed"] is True
    assert changed["lines"][0]["net"] == "1100.00" and changed["version"] > invoice["version"]
    ok(api.post(f"/invoices/{invoice['id']}/issue", {"version": invoice["version"]}, user="alma"), 409)  # stale
    issued = issue_now(kontor, api, changed)
    again = ok(api.post(f"/invoices/{invoice['id']}/issue", {}, user="alma"))
    assert again["number"] == issued["number"] and again["version"] == issued["version"]
    answer = ok(api.patch(f"/invoices/{invoice['id']}", {"version": issued["version"], "note": "x"}, user="alma"), 409)
    assert "credit note" in answer["error"]["message"]
    ok(api.delete(f"/invoices/{invoice['id']}", user="alma"), 409)


def test_a_credit_note_has_its_own_series_names_the_invoice_and_may_reopen_delivery(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"}, service_from="2026-11-02")
    [invoice] = draft(api, order_id=order["id"])
    issued = issue_now(kontor, api, invoice)
    line = issued["lines"][0]["id"]
    year = date.today().year

    too_many = ok(api.post(f"/invoices/{issued['id']}/credit-notes", {
        "reason": "Zu viel berechnet", "lines": [{"invoice_line_id": line, "quantity": "11"}]}, user="alma"), 422)
    assert too_many["error"]["details"][0]["field"] == "lines.0.quantity"
    partial = ok(api.post(f"/invoices/{issued['id']}/credit-notes", {
        "reason": "2 Stunden nicht erbracht", "lines": [{"invoice_line_id": line, "quantity": "2"}]},
        user="alma"), 201)
    assert partial["kind"] == "credit_note" and partial["corrects_id"] == issued["id"]
    partial = issue_now(kontor, api, partial)
    assert partial["number"] == f"CN-{year}-0001" and partial["gross_total"] == "285.60"  # 240.00 + 19 %

    cancel = ok(api.post(f"/invoices/{issued['id']}/credit-notes", {
        "reason": "Storno", "reopens_delivery": True}, user="alma"), 201)
    assert [Decimal(li["quantity"]) for li in cancel["lines"]] == [Decimal(8)]  # what is not credited yet
    assert issue_now(kontor, api, cancel)["number"] == f"CN-{year}-0002"
    assert ok(api.get(f"/orders/{order['id']}"))["status"] == "partly_invoiced"
    [anew] = draft(api, order_id=order["id"])  # the 8 hours the cancellation reopened
    assert [Decimal(li["quantity"]) for li in anew["lines"]] == [Decimal(8)]
    assert issue_now(kontor, api, anew)["number"] == f"INV-{year}-0002"
    ok(api.post(f"/invoices/{partial['id']}/credit-notes", {"reason": "x"}, user="alma"), 409)  # not of a note


def test_reverse_charge_and_intra_community_lines_bear_no_tax_and_need_both_vat_ids(kontor, api):
    setup = sales_setup(api, customer={"name": "Wiener Technik GmbH", "country": "AT", "vat_id": "ATU13585627",
                                       "tax_treatment": "eu_reverse_charge",
                                       "main_address": {"street": "Ringstraße 1", "postal_code": "1010",
                                                        "city": "Wien", "country": "AT"}})
    ok(api.patch(f"/products/{setup['products']['book']['id']}", {
        "kind": "goods", "version": api.version(f"/products/{setup['products']['book']['id']}")}, user="mona"))
    order = order_of(kontor, api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "2"},
                                                {"product_id": setup["products"]["book"]["id"], "quantity": "1"}])
    deliver(api, order, {1: "2", 2: "1"})
    [invoice] = draft(api, order_id=order["id"])
    assert [(li["tax_category"], li["tax_rate"]) for li in invoice["lines"]] == [("AE", "0.00"), ("K", "0.00")]
    issued = issue_now(kontor, api, invoice)
    assert issued["tax_total"] == "0.00" and {g["category"] for g in issued["tax_groups"]} == {"AE", "K"}
    assert issued["buyer"]["vat_id"] == "ATU13585627"


def test_an_issue_that_lacks_mandatory_content_is_refused_and_gives_its_number_back(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "5"})
    [invoice] = draft(api, order_id=order["id"])
    customer = setup["customer"]["id"]
    with kontor.transaction() as session:  # an address emptied (e.g. by a data import gone wrong)
        session.execute(update(Address).where(Address.customer_id == customer).values(street="", city=""))
    answer = ok(api.post(f"/invoices/{invoice['id']}/issue", {}, user="alma"), 422)
    assert {d["field"] for d in answer["error"]["details"]} == {"buyer.street", "buyer.city"}
    with kontor.transaction() as session:
        session.execute(update(Address).where(Address.customer_id == customer).values(street="Postfach 12",
                                                                                      city="Stuttgart"))
    issued = issue_now(kontor, api, ok(api.get(f"/invoices/{invoice['id']}", user="alma")))
    assert re.fullmatch(rf"INV-{date.today().year}-0001", issued["number"])  # the failed issue took none
    assert issued["buyer"]["street"] == "Postfach 12"


@SENDS
def test_who_may_draft_issue_and_read_invoices(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    ok(api.post("/invoices", {"order_id": order["id"]}, user="sam"), 403)  # sales do not invoice
    [invoice] = draft(api, order_id=order["id"], user="mona")  # managers do
    ok(api.post(f"/invoices/{invoice['id']}/issue", {}, user="tara"), 403)
    ok(api.post("/invoices", {"order_id": order["id"], "customer_id": setup["customer"]["id"]}, user="alma"), 422)
    portal = _portal_user(kontor, setup["customer"]["id"])
    ok(api.get(f"/invoices/{invoice['id']}", user=portal), 404)  # a draft is nobody's business outside
    assert ok(api.get("/invoices", user=portal))["total"] == 0
    issue(kontor, api, invoice)
    assert ok(api.get(f"/invoices/{invoice['id']}", user=portal))["number"]
    assert [i["id"] for i in ok(api.get("/invoices", user=portal))["items"]] == [invoice["id"]]
    other = sales_setup(api, customer={"name": "Andere GmbH"})
    stranger = _portal_user(kontor, other["customer"]["id"], "paul")
    ok(api.get(f"/invoices/{invoice['id']}", user=stranger), 404)
    assert ok(api.get("/invoices", user=stranger))["total"] == 0
    ok(api.post("/invoices", {"customer_id": setup["customer"]["id"]}, user=portal), 404)


def _portal_user(kontor, customer_id: int, name: str = "petra") -> str:
    from tests.support import ensure_user
    ensure_user(kontor, name, ["portal"], customer_id)
    return name


def test_the_portal_waits_until_the_invoice_is_sent(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    [invoice] = draft(api, order_id=order["id"])
    issued = issue_now(kontor, api, invoice)  # issued, its mail not yet queued
    portal = _portal_user(kontor, setup["customer"]["id"])
    assert issued["status"] == "issued"
    ok(api.get(f"/invoices/{invoice['id']}", user=portal), 404)
    assert ok(api.get("/invoices", user=portal))["total"] == 0
