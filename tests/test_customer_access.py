"""Portal users are bound to one customer: every customer-data endpoint, read or write, shows them
nothing of another customer. Staff roles see all; integrations see no customer data."""
from __future__ import annotations

import re

from fastapi.routing import APIRoute, iter_route_contexts

from domain.users import add_user

CUSTOMER_PREFIXES = ("/api/v1/customers", "/api/v1/contacts", "/api/v1/opportunities", "/api/v1/opportunity-groups",
                     "/api/v1/leads")


def customer_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.path.startswith(CUSTOMER_PREFIXES):
            found += [(method, route.path) for method in route.methods - {"HEAD", "OPTIONS"}]
    return sorted(found)


# A valid body for each write, so that only the access check can refuse it.
VALID_BODIES = {("POST", "customers"): {"name": "x"}, ("POST", "contacts"): {"last_name": "x"},
                ("POST", "sites"): {"name": "x"},
                ("POST", "addresses"): {"kind": "billing", "street": "x", "postal_code": "1", "city": "x"},
                ("PATCH", "{customer_id}"): {"name": "x"}, ("PATCH", "{contact_id}"): {"role": "x"},
                ("POST", "special-conditions"): {"kind": "discount_percent", "value": "5"},
                ("POST", "opportunities"): {"customer_id": "{other}", "title": "x", "amount": "1"},
                ("POST", "opportunity-groups"): {"customer_id": "{other}", "name": "x"},
                ("POST", "leads"): {"company_name": "x"}, ("PATCH", "{lead_id}"): {"score": 1},
                ("POST", "convert"): {}, ("POST", "move"): {"phase": "offer"},
                ("PATCH", "{opportunity_id}"): {"title": "x"}, ("POST", "notes"): {"text": "x"},
                ("POST", "merge"): {"merged_id": 1},
                ("POST", "mandates"): {"reference": "M-1", "signed_on": "2026-01-02", "debtor_name": "x",
                                       "iban": "DE89370400440532013000"}}


OTHER_WORDS = ("Fremdkunde", "Person other", "p@other", "Werk other", "Projekt other", "Stadt other")


def seed(api) -> dict:
    ids = {}
    for key, name in (("own", "Kunde Eigen GmbH"), ("other", "Fremdkunde AG")):
        customer = api.post("/customers", {"name": name, "main_address": {
            "street": "Weg 1", "postal_code": "10115", "city": f"Stadt {key}"}}, user="sam").json()
        contact = api.post(f"/customers/{customer['id']}/contacts",
                           {"last_name": f"Person {key}", "email": f"p@{key}.example"}, user="sam").json()
        site = api.post(f"/customers/{customer['id']}/sites", {"name": f"Werk {key}"}, user="sam").json()
        opportunity = api.post("/opportunities", {"customer_id": customer["id"], "title": f"Projekt {key}",
                                                  "amount": "1000"}, user="sam").json()
        lead = api.post("/leads", {"company_name": f"Lead {key}"}, user="sam").json()
        ids[key] = {"customer_id": customer["id"], "contact_id": contact["id"], "site_id": site["id"],
                    "opportunity_id": opportunity["id"], "lead_id": lead["id"]}
    return ids


# Every table of customer data: a portal user's refused write must leave each exactly as it was.
CUSTOMER_TABLES = ("customer", "contact", "site", "address", "special_condition", "opportunity", "opportunity_group",
                   "lead", "note", "customer_trace", "activity", "document")


def customer_data(kontor) -> dict[str, list]:
    from sqlalchemy import text

    with kontor.engine.connect() as connection:
        return {table: sorted((tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))), key=repr)
                for table in CUSTOMER_TABLES}


def portal_user(kontor, customer_id: int, name: str = "paula") -> None:
    with kontor.transaction() as session:
        add_user(session, name, f"{name}-password", ["portal"], customer_id=customer_id)


def test_a_portal_user_sees_its_own_customer_and_nothing_of_another(api, kontor):
    ids = seed(api)
    portal_user(kontor, ids["own"]["customer_id"])
    routes = customer_routes(api.client.app)
    assert len(routes) >= 10, routes
    api.token("paula")
    before = customer_data(kontor)
    assert before["customer"] and before["opportunity"] and before["lead"]  # there is something to change
    writes, answers, wanted = 0, {}, {}
    for method, path in routes:
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(ids["other"][m.group(1)]), path).removeprefix("/api/v1")
        body = VALID_BODIES.get((method, path.rsplit("/", 1)[-1]))
        if body and body.get("customer_id") == "{other}":
            body = {**body, "customer_id": ids["other"]["customer_id"]}
        response = api.client.request(method, f"/api/v1{concrete}", headers=api.headers("paula"), json=body)
        writes += method != "GET"
        leaked = [word for word in OTHER_WORDS if word in response.text]
        assert not leaked, (method, path, response.text)
        answers[(method, path)] = response.status_code
        if path.startswith("/api/v1/leads"):  # leads are staff's
            wanted[(method, path)] = 403
        elif path.startswith("/api/v1/opportunities") and method == "GET":  # so is the pipeline
            wanted[(method, path)] = 403 if path.endswith("/pipeline") else 404
        elif "{" in path:  # another customer's record: as if it did not exist
            wanted[(method, path)] = 404
        elif method == "GET":  # lists: the own customer's rows only (checked below)
            wanted[(method, path)] = 200
        else:  # a new record: a customer is staff's to create, one for another customer names what does not exist
            wanted[(method, path)] = 403 if path == "/api/v1/customers" else 404
    assert writes >= 15, writes
    after = customer_data(kontor)
    assert {table: rows for table, rows in after.items() if rows != before[table]} == {}  # not a row changed
    assert {route: code for route, code in answers.items() if code != wanted[route]} == {}
    own = api.get("/customers", user="paula").json()
    assert [c["name"] for c in own["items"]] == ["Kunde Eigen GmbH"]
    assert api.get(f"/customers/{ids['own']['customer_id']}/contacts", user="paula").json()["total"] == 1
    assert api.get("/contacts", params={"customer_id": ids["other"]["customer_id"]}, user="paula").json()["total"] == 0
    change = api.client.patch(f"/api/v1/customers/{ids['own']['customer_id']}", json={"name": "Selbst"},
                              headers=api.headers("paula"))
    assert change.status_code == 403  # reads its own data, changes nothing
    assert customer_data(kontor) == before


def test_staff_see_every_customer_integrations_see_none(api):
    seed(api)
    for user in ("sam", "rita", "rolf", "olga", "mona"):
        assert api.get("/customers", user=user).json()["total"] == 2, user
        assert api.get("/contacts", user=user).json()["total"] == 2, user
    for path in ("/customers", "/contacts"):
        assert api.get(path, user="ivan").status_code == 403


def test_portal_users_belong_to_exactly_one_customer(kontor):
    import pytest

    from kernel.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        with kontor.transaction() as session:
            add_user(session, "lonely", "lonely-password", ["portal"])
    with pytest.raises(ValidationFailed):
        with kontor.transaction() as session:
            add_user(session, "mixed", "mixed-password", ["portal", "sales"], customer_id=1)
