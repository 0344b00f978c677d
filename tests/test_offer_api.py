"""Offers through the API on SQLite and PostgreSQL: defaults from the customer, pricing, field errors,
gapless numbers, revisions, who may do what, and the customer's signed link."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from domain.offers.models import OfferAnswerLink
from kernel.clock import utcnow
from tests.mailbox import wait_for_mail
from tests.offer_support import answer_token, drive, new_offer, sales_setup, sent_offer
from tests.support import ok


def fields(response) -> dict:
    assert response.status_code == 422, response.text
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_a_new_offer_takes_the_customers_defaults_and_prices(kontor, api):
    setup = sales_setup(api, customer={"payment_days": 30, "skonto_percent": "2", "skonto_days": 10,
                                       "delivery_terms": "frei Haus"})
    cid = setup["customer"]["id"]
    billing = ok(api.post(f"/customers/{cid}/addresses", {"kind": "billing", "street": "Postfach 12",
                                                         "postal_code": "70001", "city": "Stuttgart",
                                                         "is_default": True}, user="sam"), 201)
    ok(api.post(f"/customers/{cid}/special-conditions", {"product_id": setup["products"]["consulting"]["id"],
                                                         "kind": "discount_percent", "value": "5"}, user="sam"), 201)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "10"},
                                         {"product_id": setup["products"]["book"]["id"], "quantity": "2"}])
    assert (offer["status"], offer["number"], offer["label"]) == ("draft", None, f"draft {offer['id']}")
    assert (offer["contact_id"], offer["billing_address_id"]) == (setup["contact"]["id"], billing["id"])
    assert offer["delivery_address_id"] not in (None, billing["id"])  # the main address
    assert (offer["payment_days"], Decimal(offer["skonto_percent"]), offer["skonto_days"], offer["delivery_terms"]) == (
        30, Decimal("2"), 10, "frei Haus")
    assert offer["currency"] == "EUR" and offer["tax_treatment"] == "domestic" and offer["language"] == "de"
    # 30 days from today in the company's time zone (Berlin), which may be a day ahead of UTC's today
    assert (date.fromisoformat(offer["valid_until"]) - date.today()).days in (30, 31)
    consulting, book = offer["lines"]
    assert (consulting["list_price"], consulting["unit_price"], consulting["net"]) == ("120.00", "114.00", "1140.00")
    assert consulting["price_rule"] == "customer discount 5 % on product"
    assert (book["tax_rate"], book["net"]) == ("7.00", "79.80")
    assert [(g["rate"], g["net"], g["tax"]) for g in offer["tax_groups"]] == [("19.00", "1140.00", "216.60"),
                                                                              ("7.00", "79.80", "5.59")]
    assert (offer["net_total"], offer["tax_total"], offer["gross_total"]) == ("1219.80", "222.19", "1441.99")
    assert offer["opportunity_id"] is None  # a draft is no business in the pipeline yet
    overview = ok(api.get(f"/customers/{cid}/overview", user="sam"))
    assert [o["id"] for o in overview["open_offers"]] == [offer["id"]]
    submitted = ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    opportunity = ok(api.get(f"/opportunities/{submitted['opportunity_id']}", user="sam"))
    assert opportunity["phase"] == "offer" and opportunity["amount"] == "1219.80"


def test_bad_offers_get_each_field_named(kontor, api):
    setup = sales_setup(api)
    other = ok(api.post("/customers", {"name": "Other GmbH"}, user="sam"), 201)
    stranger = ok(api.post(f"/customers/{other['id']}/contacts", {"last_name": "Fremd"}, user="sam"), 201)
    errors = fields(api.post("/offers", {"customer_id": setup["customer"]["id"], "title": "X",
                                         "contact_id": stranger["id"],
                                         "valid_until": (date.today() - timedelta(days=2)).isoformat(),
                                         "skonto_percent": "2", "lines": []}, user="sam"))
    assert {"contact_id", "valid_until", "skonto_days"} <= set(errors)
    errors = fields(api.post("/offers", {"customer_id": setup["customer"]["id"], "title": "X",
                                         "lines": [{"product_id": 999999, "quantity": "1"},
                                                   {"product_id": setup["products"]["book"]["id"], "quantity": "0"}]},
                             user="sam"))
    assert {"lines.0.product_id", "lines.1.quantity"} & set(errors)
    empty = new_offer(api, setup, lines=[])
    assert "lines" in fields(api.post(f"/offers/{empty['id']}/submit", {}, user="sam"))
    assert api.get(f"/offers/{empty['id']}/pdf", user="sam").status_code == 404


def test_numbers_are_given_at_submission_without_gaps(kontor, api):
    setup = sales_setup(api)
    first, empty, second = new_offer(api, setup), new_offer(api, setup, lines=[]), new_offer(api, setup)
    assert api.post(f"/offers/{empty['id']}/submit", {}, user="sam").status_code == 422
    numbers = [ok(api.post(f"/offers/{o['id']}/submit", {}, user="sam"))["number"] for o in (second, first)]
    year = date.today().year
    assert numbers == [f"OFF-{year}-0001", f"OFF-{year}-0002"]
    again = api.post(f"/offers/{first['id']}/submit", {}, user="sam")
    assert again.status_code == 409


def test_who_may_read_and_change_offers(kontor, api):
    from domain.users import add_user

    setup = sales_setup(api)
    offer = new_offer(api, setup)
    assert ok(api.get(f"/offers/{offer['id']}", user="rolf"))["id"] == offer["id"]  # staff read
    assert api.patch(f"/offers/{offer['id']}", {"title": "Neu"}, user="rolf").status_code == 403
    assert api.post("/offers", {"customer_id": setup["customer"]["id"], "title": "X"}, user="rolf").status_code == 403
    ritas = ok(api.post("/customers", {"name": "Ritas Kunde GmbH"}, user="rita"), 201)
    assert api.post("/offers", {"customer_id": ritas["id"], "title": "X"}, user="sam").status_code == 403
    with kontor.transaction() as session:
        add_user(session, "paula", "paula-password", ["portal"], customer_id=setup["customer"]["id"])
    assert api.get(f"/offers/{offer['id']}", user="paula").status_code == 404
    assert api.get("/offers", user="paula").status_code == 404
    assert ok(api.patch(f"/offers/{offer['id']}", {"title": "Neu", "version": offer["version"]},
                        user="sam"))["title"] == "Neu"
    stale = api.patch(f"/offers/{offer['id']}", {"title": "Alt", "version": offer["version"]}, user="sam")
    assert stale.status_code == 409


@pytest.mark.usefixtures("mail")
def test_changing_a_sent_offer_makes_the_next_revision(kontor, api, mail):
    setup = sales_setup(api)
    offer = new_offer(api, setup)
    submitted = ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    drive(kontor)
    wait_for_mail(mail, setup["address"])
    old_instance = ok(api.get(f"/offers/{offer['id']}"))["instance_id"]
    revised = ok(api.edit(f"/offers/{offer['id']}", {"payment_days": 14}, user="sam"))
    assert revised["id"] != offer["id"] and (revised["revision"], revised["previous_id"]) == (2, offer["id"])
    assert (revised["status"], revised["number"], revised["label"]) == ("draft", submitted["number"],
                                                                      f"{submitted['number']}-2")
    assert revised["payment_days"] == 14 and revised["lines"][0]["sku"] == offer["lines"][0]["sku"]
    assert ok(api.get(f"/offers/{offer['id']}"))["status"] == "superseded"
    assert api.instance(old_instance)["status"] == "cancelled"
    chain = ok(api.get(f"/offers/{revised['id']}/revisions", user="sam"))["items"]
    assert [(o["revision"], o["status"]) for o in chain] == [(1, "superseded"), (2, "draft")]
    ok(api.post(f"/offers/{revised['id']}/submit", {}, user="sam"))
    drive(kontor)
    assert ok(api.get(f"/offers/{revised['id']}"))["status"] == "sent"
    [_, second] = wait_for_mail(mail, setup["address"], 2)
    assert second["Subject"].endswith(f"[{submitted['number']}-2]")
    assert api.edit(f"/offers/{offer['id']}", {"title": "zu spät"}, user="sam").status_code == 409


@pytest.mark.usefixtures("mail")
def test_the_answer_link_is_signed_single_use_and_ends_with_the_offer(kontor, api, mail):
    setup = sales_setup(api)
    offer, message = sent_offer(kontor, api, setup, mail)
    token = answer_token(message)
    offer_id, nonce, mac = token.split(".")
    forged = f"{offer_id}.{nonce}.{'A' * len(mac)}"
    assert api.client.get(f"/o/{forged}").status_code == 404
    assert api.client.post(f"/o/{forged}", data={"decision": "accept"}).status_code == 404
    assert api.client.get(f"/o/{int(offer_id) + 1}.{nonce}.{mac}").status_code == 404
    assert api.client.post(f"/o/{token}", data={"decision": "maybe"}).status_code == 422
    page = api.client.get(f"/o/{token}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert api.client.get(f"/o/{token}/pdf").content[:5] == b"%PDF-"
    with kontor.transaction() as session:
        session.execute(update(OfferAnswerLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    late = api.client.post(f"/o/{token}", data={"decision": "accept"})
    assert late.status_code == 410 and "Gültigkeit dieses Angebots ist abgelaufen" in late.text
    assert ok(api.get(f"/offers/{offer['id']}"))["status"] == "sent"


def test_withdrawing_an_offer_in_approval_stops_its_process(kontor, api):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "300"}])
    submitted = ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    withdrawn = ok(api.post(f"/offers/{offer['id']}/withdraw", user="sam"))
    assert withdrawn["status"] == "cancelled"
    assert api.instance(submitted["instance_id"])["status"] == "cancelled"
    assert ok(api.get("/tasks", user="tara"))["items"] == []


def test_another_site_may_change_the_tax_and_the_lines_are_priced_again(kontor, api):
    from domain.customers.models import Site

    setup = sales_setup(api)
    site = ok(api.post(f"/customers/{setup['customer']['id']}/sites", {"name": "Lager Basel"}, user="sam"), 201)
    with kontor.transaction() as session:  # a site taxed otherwise than its customer (e.g. imported that way)
        session.get(Site, site["id"]).tax_treatment = "export"
    offer = new_offer(api, setup)
    assert (offer["tax_treatment"], offer["tax_total"]) == ("domestic", "228.00")
    moved = ok(api.patch(f"/offers/{offer['id']}", {"site_id": site["id"], "version": offer["version"]}, user="sam"))
    assert (moved["tax_treatment"], moved["lines"][0]["tax_rate"], moved["tax_total"]) == ("export", "0.00", "0.00")
    assert moved["gross_total"] == moved["net_total"] == offer["net_total"]
