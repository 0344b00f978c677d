"""Products, price lists with tiers, special conditions and the price lookup, through the API, on
SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.support import ok

CONSULTING = {"sku": "SRV-CONS-H", "name_de": "Beratung (Stunde)", "name_en": "Consulting (hour)", "unit": "hour",
              "tax_rate": "19", "cost": "62.50", "sla_text": "Reaktion am nächsten Werktag",
              "visibility": "prices_after_login"}


def fields(response) -> dict:
    assert response.status_code == 422, response.text
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


@pytest.fixture
def catalog(api) -> dict:
    product = ok(api.post("/products", CONSULTING, user="mona"), 201)
    standard = ok(api.post("/price-lists", {"code": "STD-EUR", "name": "Standard", "currency": "EUR",
                                            "is_default": True}, user="mona"), 201)
    ok(api.post(f"/price-lists/{standard['id']}/items", {"product_id": product["id"], "tiers": [
        {"min_quantity": "1", "unit_price": "120.00"}, {"min_quantity": "10", "unit_price": "110.00"},
        {"min_quantity": "40", "unit_price": "99.99"}], "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
        user="mona"), 201)
    ok(api.post(f"/price-lists/{standard['id']}/items", {"product_id": product["id"], "tiers": [
        {"min_quantity": "1", "unit_price": "125.00"}], "valid_from": "2027-01-01"}, user="mona"), 201)
    customer = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    return {"product": product, "price_list": standard, "customer": customer}


def quote(api, catalog, user="sam", **params) -> dict:
    params = {"customer_id": catalog["customer"]["id"], **params}
    return ok(api.get(f"/products/{catalog['product']['id']}/price", params=params, user=user))


def test_the_price_list_tier_for_the_quantity_and_day(api, catalog):
    assert quote(api, catalog, quantity="1", on="2026-05-04")["unit_price"] == "120.00"
    tier = quote(api, catalog, quantity="10", on="2026-05-04")
    assert (tier["unit_price"], tier["list_price"], tier["rule"]) == ("110.00", "110.00", "price list tier from 10")
    assert quote(api, catalog, quantity="2.5", on="2026-12-31")["unit_price"] == "120.00"  # hours, valid_to inclusive
    assert quote(api, catalog, quantity="1", on="2027-01-01")["unit_price"] == "125.00"  # next year's price
    assert quote(api, catalog, quantity="40")["currency"] == "EUR"
    assert quote(api, catalog, on="2026-05-04")["quantity"] == "1"  # one, unless a quantity is asked for


def test_special_conditions_lower_the_price_never_raise_it(api, catalog):
    cid = catalog["customer"]["id"]
    ok(api.post(f"/customers/{cid}/special-conditions", {"kind": "discount_percent", "value": "5"}, user="sam"), 201)
    general = quote(api, catalog, quantity="1", on="2026-05-04")
    assert (general["unit_price"], general["discount_percent"]) == ("114.00", "5.00")
    ok(api.post(f"/customers/{cid}/special-conditions", {"product_id": catalog["product"]["id"], "kind": "fixed_price",
                                                         "value": "100", "valid_to": "2026-06-30"}, user="sam"), 201)
    special = quote(api, catalog, quantity="1", on="2026-05-04")
    assert (special["unit_price"], special["rule"]) == ("100.00", "special price for customer")
    assert quote(api, catalog, quantity="40", on="2026-05-04")["unit_price"] == "99.99"  # the tier is lower still
    assert quote(api, catalog, quantity="1", on="2026-07-01")["unit_price"] == "114.00"  # special price expired
    conditions = ok(api.get(f"/customers/{cid}/special-conditions", user="sam"))["items"]
    assert [(c["kind"], c["created_by"]) for c in conditions] == [("discount_percent", "sam"), ("fixed_price", "sam")]


def test_the_customers_own_price_list_wins_over_the_default(api, catalog):
    partner = ok(api.post("/price-lists", {"code": "PARTNER", "name": "Partner", "currency": "EUR"}, user="mona"), 201)
    ok(api.post(f"/price-lists/{partner['id']}/items", {"product_id": catalog["product"]["id"],
                                                        "tiers": [{"min_quantity": "0", "unit_price": "90"}]},
                user="mona"), 201)
    cid = catalog["customer"]["id"]
    ok(api.edit(f"/customers/{cid}", {"price_list_id": partner["id"]}, user="sam"))
    answer = quote(api, catalog, quantity="3")
    assert (answer["price_list"], answer["unit_price"]) == ("PARTNER", "90.00")
    missing = api.edit(f"/customers/{cid}", {"price_list_id": 999999}, user="sam")
    assert "price_list_id" in fields(missing)


def test_no_price_is_a_clear_422(api, catalog):
    usd = ok(api.post("/customers", {"name": "Yankee Inc", "country": "US", "tax_treatment": "export",
                                     "currency": "USD"}, user="sam"), 201)
    errors = fields(api.get(f"/products/{catalog['product']['id']}/price", params={"customer_id": usd["id"]}))
    assert "no price list" in errors["customer_id"]
    errors = fields(api.get(f"/products/{catalog['product']['id']}/price",
                            params={"customer_id": catalog["customer"]["id"], "on": "2025-01-01"}))
    assert "no price" in errors["product_id"]
    assert "quantity" in fields(api.get(f"/products/{catalog['product']['id']}/price",
                                        params={"customer_id": catalog["customer"]["id"], "quantity": "0"}))


def test_price_periods_of_one_product_may_not_overlap(api, catalog):
    body = {"product_id": catalog["product"]["id"], "tiers": [{"min_quantity": "1", "unit_price": "1"}],
            "valid_from": "2026-12-01", "valid_to": "2027-01-31"}
    assert api.post(f"/price-lists/{catalog['price_list']['id']}/items", body, user="mona").status_code == 409
    errors = fields(api.post(f"/price-lists/{catalog['price_list']['id']}/items",
                             {**body, "valid_from": "2028-02-01", "valid_to": "2028-01-01",
                              "tiers": [{"min_quantity": "5", "unit_price": "1"}]}, user="mona"))
    assert set(errors) == {"tiers", "valid_to"}


def test_products_list_search_and_who_maintains_them(api, catalog):
    ok(api.post("/products", {"sku": "LIC-M365", "name_de": "Microsoft 365 Lizenz", "unit": "licence",
                              "visibility": "public"}, user="mona"), 201)
    ok(api.post("/products", {"sku": "INT-TRAVEL", "name_de": "Reisekosten intern", "visibility": "internal"},
                user="mona"), 201)
    skus = lambda user="sam", **p: [x["sku"] for x in ok(api.get("/products", params=p, user=user))["items"]]  # noqa
    assert skus() == ["INT-TRAVEL", "LIC-M365", "SRV-CONS-H"]
    assert skus(q="consulting") == ["SRV-CONS-H"] and skus(q="lizenz") == ["LIC-M365"]
    assert skus(sort="-sku") == ["SRV-CONS-H", "LIC-M365", "INT-TRAVEL"]
    assert api.post("/products", {**CONSULTING}, user="mona").status_code == 422  # SKU taken
    assert api.post("/products", {**CONSULTING, "sku": "NEW-1"}, user="sam").status_code == 403
    assert "tax_rate" in fields(api.post("/products", {**CONSULTING, "sku": "NEW-2", "tax_rate": "119"}, user="mona"))
    assert "sku" in fields(api.post("/products", {**CONSULTING, "sku": "bad sku!"}, user="mona"))
    renamed = ok(api.edit(f"/products/{catalog['product']['id']}", {"name_de": "Beratung"}, user="mona"))
    assert renamed["name_de"] == "Beratung" and renamed["cost"] == "62.50"


def test_portal_users_see_public_products_their_prices_and_no_costs(api, catalog, kontor):
    from domain.users import add_user

    ok(api.post("/products", {"sku": "INT-X", "name_de": "Intern", "visibility": "internal"}, user="mona"), 201)
    other = ok(api.post("/customers", {"name": "Other GmbH"}, user="sam"), 201)
    with kontor.transaction() as session:
        add_user(session, "pia", "pia-password", ["portal"], customer_id=catalog["customer"]["id"])
    listed = ok(api.get("/products", user="pia"))["items"]
    assert [(p["sku"], p["cost"]) for p in listed] == [("SRV-CONS-H", None)]
    assert quote(api, catalog, user="pia", quantity="1", on="2026-05-04")["unit_price"] == "120.00"
    foreign = api.get(f"/products/{catalog['product']['id']}/price", params={"customer_id": other["id"]}, user="pia")
    assert foreign.status_code == 404
    assert api.get(f"/customers/{other['id']}/special-conditions", user="pia").status_code == 404
    assert api.get("/price-lists", user="pia").status_code == 403
    assert api.get("/products", user="ivan").status_code == 403
