"""The lists below a record (sites, addresses, notes, documents, price lists, items, special
conditions, duplicates) answer in the same Page shape as the main lists: sorted, filtered, paged."""
from __future__ import annotations

import pytest

from tests.support import ok


def page(api, path: str, user: str = "rita", **params) -> dict:
    body = ok(api.get(path, params=params, user=user))
    assert set(body) == {"items", "total", "limit", "offset"}
    return body


@pytest.fixture
def acme(api) -> dict:
    return ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)


def test_sites_and_addresses_sort_and_page(api, acme):
    cid = acme["id"]
    for name in ("Werk Süd", "Albstadt", "Zentrale"):
        ok(api.post(f"/customers/{cid}/sites", {"name": name}, user="sam"), 201)
    by_name = page(api, f"/customers/{cid}/sites", limit=2)
    assert [s["name"] for s in by_name["items"]] == ["Albstadt", "Werk Süd"] and by_name["total"] == 3
    rest = page(api, f"/customers/{cid}/sites", limit=2, offset=2)
    assert [s["name"] for s in rest["items"]] == ["Zentrale"]
    assert [s["name"] for s in page(api, f"/customers/{cid}/sites", sort="-name")["items"]][0] == "Zentrale"
    for kind, city in (("billing", "Köln"), ("delivery", "Aachen"), ("delivery", "Bonn")):
        ok(api.post(f"/customers/{cid}/addresses", {"kind": kind, "street": "Weg 1", "postal_code": "50667",
                                                    "city": city, "country": "DE"}, user="sam"), 201)
    deliveries = page(api, f"/customers/{cid}/addresses", kind="delivery", sort="-city")
    assert [a["city"] for a in deliveries["items"]] == ["Bonn", "Aachen"] and deliveries["total"] == 2


def test_notes_newest_first_and_paged(api, acme):
    cid = acme["id"]
    ids = [ok(api.post(f"/customers/{cid}/notes", {"text": f"Notiz {n}"}, user="sam"), 201)["id"] for n in range(3)]
    newest = page(api, f"/customers/{cid}/notes", limit=2)
    assert [n["id"] for n in newest["items"]] == ids[::-1][:2] and newest["total"] == 3
    assert [n["id"] for n in page(api, f"/customers/{cid}/notes", sort="id")["items"]] == ids


def test_documents_sort_by_name_and_size(api, acme):
    for name, body in (("b.txt", b"12345"), ("a.txt", b"1")):
        ok(api.client.post("/api/v1/documents", headers=api.headers("sam"),
                           data={"owner_type": "customer", "owner_id": str(acme["id"])},
                           files={"file": (name, body, "text/plain")}), 201)
    by_name = page(api, "/documents", customer_id=acme["id"], sort="filename")
    assert [d["filename"] for d in by_name["items"]] == ["a.txt", "b.txt"]
    biggest = page(api, "/documents", customer_id=acme["id"], sort="-size", limit=1)
    assert [d["filename"] for d in biggest["items"]] == ["b.txt"] and biggest["total"] == 2


def test_price_lists_items_and_special_conditions_filter_and_page(api, acme):
    product = ok(api.post("/products", {"sku": "SRV-1", "name_de": "Wartung", "unit": "month", "tax_rate": "19"},
                          user="mona"), 201)
    other = ok(api.post("/products", {"sku": "SRV-2", "name_de": "Hosting", "unit": "month", "tax_rate": "19"},
                        user="mona"), 201)
    eur = ok(api.post("/price-lists", {"code": "B-EUR", "name": "Basis", "currency": "EUR"}, user="mona"), 201)
    ok(api.post("/price-lists", {"code": "A-CHF", "name": "Schweiz", "currency": "CHF"}, user="mona"), 201)
    assert [p["code"] for p in page(api, "/price-lists")["items"]] == ["A-CHF", "B-EUR"]
    only_eur = page(api, "/price-lists", currency="eur")
    assert [p["code"] for p in only_eur["items"]] == ["B-EUR"] and only_eur["total"] == 1
    for pid in (product["id"], other["id"]):
        ok(api.post(f"/price-lists/{eur['id']}/items", {"product_id": pid, "tiers": [
            {"min_quantity": "1", "unit_price": "10.00"}]}, user="mona"), 201)
    items = page(api, f"/price-lists/{eur['id']}/items", product_id=other["id"])
    assert [i["product_id"] for i in items["items"]] == [other["id"]] and items["total"] == 1
    cid = acme["id"]
    ok(api.post(f"/customers/{cid}/special-conditions", {"kind": "discount_percent", "value": "5"}, user="sam"), 201)
    ok(api.post(f"/customers/{cid}/special-conditions", {"product_id": product["id"], "kind": "fixed_price",
                                                         "value": "8"}, user="sam"), 201)
    fixed = page(api, f"/customers/{cid}/special-conditions", product_id=product["id"])
    assert [c["kind"] for c in fixed["items"]] == ["fixed_price"]
    assert page(api, f"/customers/{cid}/special-conditions", limit=1)["total"] == 2


def test_duplicates_come_best_first_in_pages(api, acme):
    ok(api.post("/customers", {"name": "ACME"}, user="sam"), 201)
    ok(api.post("/customers", {"name": "ACME Gmbh & Co. KG"}, user="sam"), 201)
    found = page(api, "/duplicates", name="ACME GmbH", limit=1)
    assert found["total"] >= 2 and len(found["items"]) == 1
    scores = [c["score"] for c in page(api, "/duplicates", name="ACME GmbH")["items"]]
    assert scores == sorted(scores, reverse=True)
    assert page(api, "/duplicates", name="ACME GmbH", offset=1, limit=1)["items"][0]["score"] <= \
        found["items"][0]["score"]


@pytest.mark.parametrize("path", ["/customers/{cid}/sites", "/customers/{cid}/addresses", "/customers/{cid}/notes",
                                  "/documents", "/price-lists", "/customers/{cid}/special-conditions"])
def test_an_unknown_sort_field_is_a_422_naming_the_fields(api, acme, path):
    response = api.get(path.format(cid=acme["id"]), params={"sort": "password"}, user="rita")
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "sort" and "descending" in detail["message"]
