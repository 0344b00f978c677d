"""Around a customer: duplicates, merge, timeline, notes, activities and the overview, through the
API on SQLite and PostgreSQL."""
from __future__ import annotations

from tests.support import ok


def customer(api, body: dict, user: str = "sam") -> dict:
    return ok(api.post("/customers", body, user=user), 201)


def test_creating_a_likely_duplicate_names_the_candidates(api):
    first = customer(api, {"name": "Müller Datentechnik GmbH", "vat_id": "DE136695976"})
    ok(api.post(f"/customers/{first['id']}/contacts", {"last_name": "Müller", "email": "info@mueller-dt.example",
                                                       "phone": "089 1234567"}, user="sam"), 201)
    assert first["possible_duplicates"] == []
    second = customer(api, {"name": "Mueller Datentechnik AG"})
    [candidate] = second["possible_duplicates"]
    assert candidate["customer_id"] == first["id"] and candidate["score"] >= 85
    assert "similar name" in candidate["reasons"][0]
    by_vat = customer(api, {"name": "Ganz anderer Name", "vat_id": "DE136695976"})["possible_duplicates"]
    assert [(c["customer_id"], c["score"]) for c in by_vat] == [(first["id"], 100)]
    found = ok(api.get("/duplicates", params={"name": "Völlig neu", "email": ["anna@mueller-dt.example"],
                                              "phone": ["+49 89 1234567"]}, user="sam"))["items"]
    assert found[0]["customer_id"] == first["id"]
    assert set(found[0]["reasons"]) == {"a contact's e-mail at mueller-dt.example", "the same phone number"}
    assert found[0]["score"] == 85  # 75 for the phone, +10 for a second signal
    freemail = ok(api.get("/duplicates", params={"name": "Niemand", "email": ["x@gmail.com"]}, user="sam"))["items"]
    assert api.get("/duplicates", params={"name": "x"}, user="ivan").status_code == 403
    assert freemail == []
    assert customer(api, {"name": "Beta Systems"})["possible_duplicates"] == []
    again = ok(api.get(f"/customers/{second['id']}/duplicates"))["items"]
    assert [c["customer_id"] for c in again] == [first["id"]]


def test_merging_moves_everything_to_the_survivor_and_leaves_a_redirect(api):
    survivor = customer(api, {"name": "ACME GmbH"})
    merged = customer(api, {"name": "ACME GmbH (alt)", "vat_id": "DE136695976", "credit_limit": "5000"})
    ok(api.post(f"/customers/{merged['id']}/contacts", {"last_name": "Alt", "email": "alt@acme.example"},
                user="sam"), 201)
    ok(api.post(f"/customers/{merged['id']}/addresses", {"kind": "delivery", "street": "Lager 1",
                                                         "postal_code": "1", "city": "Hof"}, user="sam"), 201)
    opp = ok(api.post("/opportunities", {"customer_id": merged["id"], "title": "Alt-Projekt", "amount": "100"},
                      user="sam"), 201)
    ok(api.post(f"/customers/{merged['id']}/notes", {"text": "Kunde ruft montags an"}, user="sam"), 201)
    assert api.post(f"/customers/{survivor['id']}/merge", {"merged_id": merged["id"]}, user="sam").status_code == 403
    result = ok(api.post(f"/customers/{survivor['id']}/merge", {"merged_id": merged["id"]}, user="mona"))
    assert (result["vat_id"], result["credit_limit"]) == ("DE136695976", "5000.00")  # taken over where missing
    gone = ok(api.get(f"/customers/{merged['id']}"))
    assert (gone["merged_into_id"], gone["status"]) == (survivor["id"], "passive")
    assert [c["last_name"] for c in ok(api.get(f"/customers/{survivor['id']}/contacts"))["items"]] == ["Alt"]
    assert ok(api.get(f"/opportunities/{opp['id']}"))["customer_id"] == survivor["id"]
    delivery = ok(api.get(f"/customers/{survivor['id']}/addresses", params={"kind": "delivery"}))
    assert delivery["items"][0]["city"] == "Hof"
    names = [c["name"] for c in ok(api.get("/customers"))["items"]]
    assert names == ["ACME GmbH"]  # the merged one is only a redirect now
    assert ok(api.get("/customers", params={"q": "alt@acme"}))["items"][0]["id"] == survivor["id"]
    kinds = [t["kind"] for t in ok(api.get(f"/customers/{survivor['id']}/traces"))["items"]]
    assert kinds[0] == "customer_merged" and "note_added" in kinds
    again = api.post(f"/customers/{survivor['id']}/merge", {"merged_id": merged["id"]}, user="mona")
    assert again.status_code == 404  # merged already: only a redirect is left
    changed = api.client.patch(f"/api/v1/customers/{merged['id']}", json={"name": "x"}, headers=api.headers("mona"))
    assert changed.status_code == 404 and changed.json()["error"]["merged_into"] == survivor["id"]


def test_timeline_activities_and_overview(api, kontor):
    from domain.users import add_user

    acme = customer(api, {"name": "ACME GmbH", "main_address": {"street": "A 1", "postal_code": "1",
                                                                 "city": "Köln"}})
    cid = acme["id"]
    ok(api.post(f"/customers/{cid}/contacts", {"last_name": "Berger"}, user="sam"), 201)
    opp = ok(api.post("/opportunities", {"customer_id": cid, "title": "Firewall", "amount": "8000"}, user="sam"), 201)
    ok(api.post(f"/opportunities/{opp['id']}/move", {"phase": "offer"}, user="sam"))
    call = ok(api.post("/activities", {"customer_id": cid, "kind": "call", "subject": "Rückruf Angebot",
                                       "due_at": "2030-01-02T09:00:00+01:00"}, user="sam"), 201)
    assert call["owner"] == "sam" and call["due_at"].startswith("2030-01-02T08:00:00")
    naive = api.post("/activities", {"customer_id": cid, "kind": "call", "subject": "x",
                                     "due_at": "2030-01-02T09:00:00"}, user="sam")
    assert naive.status_code == 422
    assert api.post(f"/activities/{call['id']}/done", user="rita").status_code == 403
    assert ok(api.post(f"/activities/{call['id']}/done", user="sam"))["done_at"]
    ok(api.post("/activities", {"customer_id": cid, "kind": "meeting", "subject": "Workshop"}, user="sam"), 201)
    ok(api.post(f"/customers/{cid}/notes", {"text": "Intern: zahlt spät"}, user="sam"), 201)
    traces = ok(api.get(f"/customers/{cid}/traces"))["items"]
    assert [t["kind"] for t in traces] == ["note_added", "call_done", "phase_change"]
    assert traces[2]["summary"] == "Firewall: Qualifizierung → Angebot"
    assert [t["kind"] for t in ok(api.get(f"/customers/{cid}/traces", params={"kind": "phase_change"}))["items"]] \
        == ["phase_change"]
    view = ok(api.get(f"/customers/{cid}/overview"))
    assert view["customer"]["number"] == acme["number"]
    assert [a["city"] for a in view["addresses"]] == ["Köln"]
    assert [c["last_name"] for c in view["contacts"]] == ["Berger"]
    assert [(o["title"], o["phase"]) for o in view["open_opportunities"]] == [("Firewall", "offer")]
    assert view["open_opportunity_amount"] == "8000.00"
    assert [a["subject"] for a in view["open_activities"]] == ["Workshop"]
    assert len(view["last_traces"]) == 3
    with kontor.transaction() as session:
        add_user(session, "pat", "pat-password", ["portal"], customer_id=cid)
    portal_view = ok(api.get(f"/customers/{cid}/overview", user="pat"))
    assert portal_view["open_activities"] == []
    # notes, calls and the sales pipeline are internal: the portal shows only what passed between the
    # customer and the company (tests/test_portal_boundaries.py)
    assert [t["kind"] for t in portal_view["last_traces"]] == []
    assert api.get(f"/customers/{cid}/notes", user="pat").status_code == 403
