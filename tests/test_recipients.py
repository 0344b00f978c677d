"""Who receives which document, decided in one place (domain.customers.recipients, README "Who
receives what"): a new contact receives what nobody at the customer receives by e-mail yet, offers go
only to a contact who receives offers, an order confirmation to the contact the offer went to, and
nobody to send to is a clear refusal, never a silent choice. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from domain.customers.recipients import document_recipient
from kernel.errors import Conflict
from tests.mailbox import wait_for_mail
from tests.offer_support import drive, new_offer, sales_setup
from tests.support import ok


def contact(api, customer_id: int, name: str, **fields) -> dict:
    return ok(api.post(f"/customers/{customer_id}/contacts", {"last_name": name, **fields}, user="sam"), 201)


def test_a_new_contact_receives_what_nobody_receives_yet(api):
    customer = ok(api.post("/customers", {"name": "Kontakt GmbH"}, user="sam"), 201)["id"]
    first = contact(api, customer, "Erste", email="erste@kontakt.test")
    assert first["receives"] == ["offers", "invoices", "dunning"]  # the first contact receives everything
    assert contact(api, customer, "Zweite", email="zweite@kontakt.test")["receives"] == []
    assert contact(api, customer, "Buchhaltung", email="buha@kontakt.test", receives=["invoices"])["receives"] == [
        "invoices"]
    ok(api.patch(f"/contacts/{first['id']}", {"receives": ["offers"], "version": first["version"]}, user="sam"))
    assert contact(api, customer, "Mahnwesen", email="mahn@kontakt.test")["receives"] == ["dunning"]
    assert contact(api, customer, "Niemand", email="niemand@kontakt.test", receives=[])["receives"] == []

    other = ok(api.post("/customers", {"name": "Ohne Adresse KG"}, user="sam"), 201)["id"]
    contact(api, other, "Telefon")  # no address: receives by e-mail nothing, so the next one is asked
    assert contact(api, other, "Mail", email="mail@ohne.test")["receives"] == ["offers", "invoices", "dunning"]

    lead = ok(api.post("/leads", {"first_name": "Lea", "last_name": "Lead", "email": "lea@kontakt.test"},
                       user="sam"), 201)
    converted = ok(api.post(f"/leads/{lead['id']}/convert", {"existing_customer_id": customer}, user="sam"))
    assert converted["customer"]["created"] is False and converted["customer"]["id"] == customer
    assert converted["contact"]["receives"] == []  # joined a customer where every kind has somebody
    assert converted["opportunity"] is None


def test_an_offer_goes_only_to_a_contact_who_receives_offers(api, kontor):
    setup = sales_setup(api, contact={"receives": ["invoices"]})
    customer = setup["customer"]["id"]
    assert ok(api.get(f"/customers/{customer}", user="sam"))["preferred_contact_id"] == setup["contact"]["id"]
    orphan = new_offer(api, setup)
    assert orphan["contact_id"] is None  # the preferred contact does not receive offers: nobody is guessed
    refused = api.post(f"/offers/{orphan['id']}/submit", {}, user="sam")
    assert refused.status_code == 422
    [problem] = refused.json()["error"]["details"]
    assert problem["field"] == "contact_id" and "receives offers" in problem["message"]
    assert setup["customer"]["number"] in problem["message"]
    chosen = api.patch(f"/offers/{orphan['id']}", {"contact_id": setup["contact"]["id"], "version": orphan["version"]},
                       user="sam")
    assert chosen.status_code == 422 and "does not receive offers" in chosen.json()["error"]["details"][0]["message"]
    with kontor.transaction() as session, pytest.raises(Conflict) as nobody:
        document_recipient(session, customer, "offers")
    assert "nobody at customer" in nobody.value.message

    buyer = contact(api, customer, "Einkauf", email=f"einkauf2.{setup['address']}", receives=["offers"])
    addressed = new_offer(api, setup)
    assert addressed["contact_id"] == buyer["id"]
    assert ok(api.post(f"/offers/{orphan['id']}/submit", {}, user="sam"))["status"] == "in_approval"  # found now
    ok(api.patch(f"/contacts/{buyer['id']}", {"receives": [], "version": buyer["version"]}, user="sam"))
    gone = api.post(f"/offers/{addressed['id']}/submit", {}, user="sam")
    assert gone.status_code == 422 and "does not receive offers" in gone.json()["error"]["details"][0]["message"]


@pytest.mark.usefixtures("mail")
def test_the_offer_mail_and_the_order_confirmation_go_to_the_offers_contact(api, kontor, mail):
    setup = sales_setup(api, contact={"receives": ["invoices"]})
    customer = setup["customer"]["id"]
    buyer = contact(api, customer, "Käufer", email=f"kauf.{setup['address']}", receives=["offers"])
    offer = new_offer(api, setup)
    ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    drive(kontor)
    [sent] = wait_for_mail(mail, buyer["email"])
    number = ok(api.get(f"/offers/{offer['id']}"))["number"]
    assert sent["Subject"].endswith(f"[{number}]")
    # the order confirmation answers the offer: its contact, even once they no longer receive offers
    ok(api.patch(f"/contacts/{buyer['id']}", {"receives": [], "version": buyer["version"]}, user="sam"))
    with kontor.transaction() as session:
        assert document_recipient(session, customer, "order_confirmations", buyer["id"]).address == buyer["email"]
        with pytest.raises(Conflict):
            document_recipient(session, customer, "offers", buyer["id"])
        assert document_recipient(session, customer, "invoices").address == setup["address"]
