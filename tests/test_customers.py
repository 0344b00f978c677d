"""Customers, sites, addresses and contacts through the API, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

ACME = {"name": "ACME Datentechnik GmbH", "industry": "IT services", "size": "small", "status": "active",
        "vat_id": "DE 136 695 976", "payment_days": 30, "skonto_percent": "2", "skonto_days": 10,
        "credit_limit": "25000.50", "delivery_terms": "frei Haus",
        "main_address": {"street": "Hauptstraße 1", "postal_code": "80331", "city": "München", "country": "DE"}}


def create(api, body: dict, user: str = "sam") -> dict:
    response = api.post("/customers", body, user=user)
    assert response.status_code == 201, response.text
    return response.json()


def fields(response) -> dict:
    assert response.status_code == 422, response.text
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_a_customer_gets_the_next_number_with_its_master_data(api):
    acme = create(api, ACME)
    assert acme["number"] == "V-000001"
    assert (acme["vat_id"], acme["owner"], acme["country"], acme["currency"]) == ("DE136695976", "sam", "DE", "EUR")
    assert (acme["credit_limit"], acme["skonto_percent"]) == ("25000.50", "2.00")  # exact, as text
    second = create(api, {"name": "Beta AG"})
    assert second["number"] == "V-000002" and second["status"] == "lead"
    [address] = api.get(f"/customers/{acme['id']}/addresses").json()["items"]
    assert (address["kind"], address["city"], address["is_default"]) == ("main", "München", True)


def test_a_refused_customer_takes_no_number(api):
    create(api, {"name": "First"})
    assert "vat_id" in fields(api.post("/customers", {"name": "Bad VAT", "vat_id": "DE136695977"}, user="sam"))
    assert create(api, {"name": "Third"})["number"] == "V-000002"  # no gap


@pytest.mark.parametrize("body, field, words", [
    ({"vat_id": "DE136695977"}, "vat_id", "checksum"),
    ({"vat_id": "12345", "country": "US", "tax_treatment": "export"}, "vat_id", "no VAT ID check"),
    ({"country": "AT", "tax_treatment": "eu_reverse_charge"}, "vat_id", "needs the customer's VAT ID"),
    ({"country": "AT", "tax_treatment": "eu_reverse_charge", "vat_id": "DE136695976"}, "vat_id", "not from AT"),
    ({"country": "AT", "tax_treatment": "export"}, "tax_treatment", "outside the EU"),
    ({"country": "CH", "tax_treatment": "domestic"}, "tax_treatment", "needs a customer in DE"),
    ({"skonto_percent": "2"}, "skonto_days", "both"),
    ({"skonto_percent": "2", "skonto_days": 20, "payment_days": 14}, "skonto_days", "shorter"),
    ({"owner": "nobody"}, "owner", "no active user"),
    ({"credit_limit": "12.345"}, "credit_limit", "decimal"),
    ({"credit_limit": -5}, "credit_limit", "greater than or equal"),
    ({"currency": "euro"}, "currency", "three-letter ISO 4217 currency code in capitals, such as EUR"),
    ({"country": "Deutschland"}, "country", "two-letter ISO 3166 country code in capitals, such as DE"),
    ({"status": "vip"}, "status", "lead"),
])
def test_bad_master_data_is_refused_by_field(api, body, field, words):
    errors = fields(api.post("/customers", {"name": "X", **body}, user="sam"))
    assert field in errors and words in errors[field], errors


def test_eu_reverse_charge_with_a_valid_foreign_vat_id(api):
    customer = create(api, {"name": "Wiener Web GmbH", "country": "AT", "tax_treatment": "eu_reverse_charge",
                            "vat_id": "U13585627"})
    assert customer["vat_id"] == "ATU13585627"


def test_only_the_owner_or_a_manager_changes_a_customer(api):
    rita_customer = create(api, {"name": "Rita's"}, user="rita")
    cid = rita_customer["id"]
    response = api.client.patch(f"/api/v1/customers/{cid}", json={"name": "Taken"}, headers=api.headers("sam"))
    assert response.status_code == 403 and "rita" in response.json()["error"]["message"]
    assert api.get(f"/customers/{cid}", user="sam").status_code == 200  # but sam sees it
    read = rita_customer["version"]
    response = api.client.patch(f"/api/v1/customers/{cid}", json={"name": "Renamed", "version": read},
                                headers=api.headers("mona"))
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    stale = api.client.patch(f"/api/v1/customers/{cid}", json={"name": "Again", "version": read},
                             headers=api.headers("rita"))
    assert stale.status_code == 409
    assert api.post("/customers", {"name": "Ops may not"}, user="olga").status_code == 403
    assert api.get("/customers", user="ivan").status_code == 403
    emptied = api.client.patch(f"/api/v1/customers/{cid}", json={"name": None}, headers=api.headers("mona"))
    assert fields(emptied) == {"name": "must not be null"}


def test_sites_addresses_and_contacts_with_the_preferred_defaults(api):
    customer = create(api, ACME)
    cid = customer["id"]
    site = api.post(f"/customers/{cid}/sites", {"name": "Werk Augsburg", "vat_id": "DE136695976"}, user="sam")
    assert site.status_code == 201, site.text
    billing = {"kind": "billing", "street": "Postfach 12", "postal_code": "86150", "city": "Augsburg",
               "is_default": True, "site_id": site.json()["id"], "recipient": "Buchhaltung"}
    assert api.post(f"/customers/{cid}/addresses", billing, user="sam").status_code == 201
    again = api.post(f"/customers/{cid}/addresses", {**ACME["main_address"], "kind": "main"}, user="sam")
    assert again.status_code == 409
    anna = api.post(f"/customers/{cid}/contacts", {"first_name": "Anna", "last_name": "Berger", "role": "Einkauf",
                                                   "email": "anna.berger@acme.example", "language": "de",
                                                   "receives": ["offers", "invoices"], "phone": "+49 89 123456"},
                    user="sam")
    assert anna.status_code == 201, anna.text
    bob = api.post(f"/customers/{cid}/contacts", {"last_name": "Brown", "language": "en", "receives": ["dunning"],
                                                  "marketing_consent": "granted"}, user="sam").json()
    assert bob["consent_changed_at"] is not None
    assert api.get(f"/customers/{cid}").json()["preferred_contact_id"] == anna.json()["id"]  # the first one
    invoices = api.get(f"/customers/{cid}/contacts", params={"receives": "invoices"}).json()
    assert [c["full_name"] for c in invoices["items"]] == ["Anna Berger"]
    billing = api.get(f"/customers/{cid}/addresses", params={"kind": "billing"}).json()
    assert billing["items"][0]["recipient"] == "Buchhaltung"
    other = create(api, {"name": "Other"})
    foreign_site = api.post(f"/customers/{other['id']}/sites", {"name": "Fremd"}, user="sam").json()
    wrong = api.edit(f"/customers/{cid}", {"preferred_site_id": foreign_site["id"]}, user="sam")
    assert "preferred_site_id" in fields(wrong)
    assert "email" in fields(api.post(f"/customers/{cid}/contacts", {"last_name": "X", "email": "not-an-address"},
                                      user="sam"))
    consent = api.client.patch(f"/api/v1/contacts/{bob['id']}", json={"marketing_consent": "revoked"},
                               headers=api.headers("sam", {"If-Match": f'"contact-{bob["id"]}-v{bob["version"]}"'}))
    assert consent.status_code == 200 and consent.json()["consent_changed_at"] > bob["consent_changed_at"]


def test_the_customer_list_filters_searches_sorts_and_pages(api):
    acme = create(api, ACME)
    api.post(f"/customers/{acme['id']}/contacts", {"last_name": "Berger", "email": "anna@acme-daten.example"},
             user="sam")
    create(api, {"name": "Zeta Systems Ltd", "country": "GB", "tax_treatment": "export", "status": "active"},
           user="rita")
    create(api, {"name": "Beta AG", "status": "passive"})
    names = lambda **params: [c["name"] for c in api.get("/customers", params=params).json()["items"]]  # noqa: E731
    assert names() == ["ACME Datentechnik GmbH", "Beta AG", "Zeta Systems Ltd"]
    assert names(sort="-name") == ["Zeta Systems Ltd", "Beta AG", "ACME Datentechnik GmbH"]
    assert names(status="active") == ["ACME Datentechnik GmbH", "Zeta Systems Ltd"]
    assert names(owner="rita") == ["Zeta Systems Ltd"]
    assert names(country="GB") == ["Zeta Systems Ltd"]
    for term in ("acme-daten", "MÜNCHEN", "v-000001", "de1366", "berger"):
        assert names(q=term) == ["ACME Datentechnik GmbH"], term
    assert names(q="100%_") == []  # wildcards are text
    page = api.get("/customers", params={"limit": 2, "offset": 2, "sort": "number"}).json()
    assert (page["total"], [c["number"] for c in page["items"]]) == (3, ["V-000003"])
    assert "sort" in fields(api.get("/customers", params={"sort": "password"}))
