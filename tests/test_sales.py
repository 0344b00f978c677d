"""Leads, opportunities with phases and project groups, and the pipeline, through the API on SQLite
and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from domain.sales.models import Opportunity
from tests.support import ensure_user, ok


def fields(response) -> dict:
    assert response.status_code == 422, response.text
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def patch(api, path: str, body: dict, user: str):
    """A change from the version just read."""
    return api.edit(path, body, user=user)


def customer(api, name="ACME GmbH", user="sam") -> dict:
    return ok(api.post("/customers", {"name": name}, user=user), 201)


def opportunity(api, customer_id: int, title: str, amount: str, user="sam", **extra) -> dict:
    return ok(api.post("/opportunities", {"customer_id": customer_id, "title": title, "amount": amount, **extra},
                       user=user), 201)


def test_a_lead_is_qualified_and_converted_into_customer_contact_and_opportunity(api):
    lead = ok(api.post("/leads", {"company_name": "Neukunde KG", "first_name": "Nina", "last_name": "Neu",
                                  "email": "nina@neukunde.example", "source": "web_form", "score": 40,
                                  "message": "Bitte um Rückruf"}, user="sam"), 201)
    assert (lead["status"], lead["owner"]) == ("new", "sam")
    assert "company_name" in fields(api.post("/leads", {"source": "phone"}, user="sam"))
    assert "disqualified_reason" in fields(api.edit(f"/leads/{lead['id']}", {"status": "disqualified"}, user="sam"))
    ok(api.edit(f"/leads/{lead['id']}", {"status": "qualified", "score": 70}, user="sam"))
    converted = ok(api.post(f"/leads/{lead['id']}/convert", {"opportunity": {"title": "Managed Services",
                                                                             "amount": "24000"}}, user="sam"))
    assert converted["status"] == "converted" and converted["customer_id"]
    new_customer = ok(api.get(f"/customers/{converted['customer_id']}"))
    assert (new_customer["name"], new_customer["owner"]) == ("Neukunde KG", "sam")
    [contact] = ok(api.get(f"/customers/{new_customer['id']}/contacts"))["items"]
    # the customer's first contact receives every document (README, "Who receives what")
    assert (contact["email"], contact["receives"]) == ("nina@neukunde.example", ["offers", "invoices", "dunning"])
    [opp] = ok(api.get("/opportunities", params={"customer_id": new_customer["id"]}))["items"]
    assert (opp["title"], opp["phase"], opp["probability"], opp["amount"]) == ("Managed Services", "qualification",
                                                                               10, "24000.00")
    # the answer says what the conversion made
    assert converted["customer"] == {"id": new_customer["id"], "number": new_customer["number"],
                                     "name": "Neukunde KG", "status": new_customer["status"], "created": True}
    assert converted["contact"] == {"id": contact["id"], "full_name": "Nina Neu", "email": "nina@neukunde.example",
                                    "receives": ["offers", "invoices", "dunning"]}
    assert converted["opportunity"] == {"id": opp["id"], "title": "Managed Services", "phase": "qualification",
                                        "amount": "24000.00", "currency": "EUR"}
    assert api.post(f"/leads/{lead['id']}/convert", {}, user="sam").status_code == 409
    found = ok(api.get("/leads", params={"q": "NEUKUNDE", "status": "converted"}))
    assert [x["id"] for x in found["items"]] == [lead["id"]]
    assert api.get("/leads", user="ivan").status_code == 200  # the mail intake reads leads


def test_phases_probability_and_closing(api):
    acme = customer(api)
    opp = opportunity(api, acme["id"], "Netzwerk-Erneuerung", "50000", expected_close="2027-03-31")
    assert (opp["phase"], opp["probability"], opp["weighted_amount"], opp["state"]) == ("qualification", 10,
                                                                                         "5000.00", "open")
    moved = ok(api.post(f"/opportunities/{opp['id']}/move", {"phase": "offer"}, user="sam"))
    assert (moved["phase"], moved["probability"], moved["weighted_amount"]) == ("offer", 50, "25000.00")
    assert "lost_reason" in fields(api.post(f"/opportunities/{opp['id']}/move", {"phase": "lost"}, user="sam"))
    assert "phase" in fields(api.post(f"/opportunities/{opp['id']}/move", {"phase": "nirvana"}, user="sam"))
    stale = api.post(f"/opportunities/{opp['id']}/move", {"phase": "negotiation", "version": opp["version"]},
                     user="sam")
    assert stale.status_code == 409
    lost = ok(api.post(f"/opportunities/{opp['id']}/move", {"phase": "lost", "lost_reason": "Preis zu hoch"},
                       user="sam"))
    assert (lost["state"], lost["lost_reason"], lost["probability"]) == ("lost", "Preis zu hoch", 0)
    assert api.post(f"/opportunities/{opp['id']}/move", {"phase": "offer"}, user="sam").status_code == 409
    assert ok(api.get("/opportunities", params={"state": "lost"}))["total"] == 1
    assert ok(api.get("/opportunities"))["total"] == 0
    other = opportunity(api, acme["id"], "Other", "1", user="sam")
    assert api.post(f"/opportunities/{other['id']}/move", {"phase": "won"}, user="rolf").status_code == 403


def test_winning_one_alternative_of_a_project_group_loses_the_others(api):
    acme = customer(api)
    group = ok(api.post("/opportunity-groups", {"customer_id": acme["id"], "name": "Rechenzentrum 2027"},
                        user="sam"), 201)
    cloud = opportunity(api, acme["id"], "Cloud", "80000", group_id=group["id"], phase="offer")
    onprem = opportunity(api, acme["id"], "On-premises", "120000", group_id=group["id"], phase="offer")
    ok(api.post(f"/opportunities/{cloud['id']}/move", {"phase": "won"}, user="sam"))
    loser = ok(api.get(f"/opportunities/{onprem['id']}"))
    assert (loser["state"], loser["lost_reason"]) == ("lost", "alternative 'Cloud' won")
    other = customer(api, "Other AG")
    assert "group_id" in fields(api.post("/opportunities", {"customer_id": other["id"], "title": "x", "amount": "1",
                                                             "group_id": group["id"]}, user="sam"))


def test_a_won_opportunity_makes_a_lead_an_active_customer(api):
    acme = customer(api)
    assert acme["status"] == "lead"
    deal = opportunity(api, acme["id"], "Wartungsvertrag", "12000", phase="negotiation")
    ok(api.post(f"/opportunities/{deal['id']}/move", {"phase": "won"}, user="sam"))
    assert ok(api.get(f"/customers/{acme['id']}"))["status"] == "active"
    kinds = [t["kind"] for t in ok(api.get(f"/customers/{acme['id']}/traces"))["items"]]
    assert kinds.count("customer_activated") == 1
    second = opportunity(api, acme["id"], "Erweiterung", "3000", phase="negotiation")
    ok(api.post(f"/opportunities/{second['id']}/move", {"phase": "won"}, user="sam"))
    kinds = [t["kind"] for t in ok(api.get(f"/customers/{acme['id']}/traces"))["items"]]
    assert kinds.count("customer_activated") == 1  # active already: no second activation


def test_the_pipeline_per_phase_with_weighted_amounts_and_overdue(api, kontor):
    acme = customer(api)
    opportunity(api, acme["id"], "A", "10000")                       # qualification 10 %
    opportunity(api, acme["id"], "B", "20000", phase="offer")        # offer 50 %
    late = opportunity(api, acme["id"], "C", "30000.50", phase="offer", probability=60)
    group = ok(api.post("/opportunity-groups", {"customer_id": acme["id"], "name": "Alternativen"}, user="sam"), 201)
    opportunity(api, acme["id"], "D1", "40000", phase="negotiation", group_id=group["id"])  # 75 % -> 30000
    opportunity(api, acme["id"], "D2", "100000", phase="analysis", group_id=group["id"])    # 25 % -> 25000
    opportunity(api, customer(api, "Rita's", user="rita")["id"], "E", "5000", user="rita")
    with kontor.transaction() as session:  # C entered its phase 31 days ago; offer allows 30
        session.execute(update(Opportunity).where(Opportunity.id == late["id"])
                        .values(phase_entered_at=datetime.now(timezone.utc) - timedelta(days=31)))
    pipeline = ok(api.get("/opportunities/pipeline", user="mona"))
    by_key = {p["key"]: p for p in pipeline["phases"]}
    assert list(by_key) == ["qualification", "analysis", "offer", "negotiation"]
    assert (by_key["qualification"]["count"], by_key["qualification"]["amount"],
            by_key["qualification"]["weighted_amount"]) == (2, "15000.00", "1500.00")
    assert (by_key["offer"]["count"], by_key["offer"]["amount"], by_key["offer"]["weighted_amount"],
            by_key["offer"]["overdue"], by_key["offer"]["overdue_ids"]) == (2, "50000.50", "28000.30", 1, [late["id"]])
    # of the two alternatives only the larger weighted amount counts (D1: 30000 beats D2: 25000)
    assert (by_key["negotiation"]["weighted_amount"], by_key["analysis"]["weighted_amount"]) == ("30000.00", "0.00")
    assert by_key["analysis"]["amount"] == "100000.00"
    assert pipeline["total_weighted_amount"] == "59500.30"
    mine = ok(api.get("/opportunities/pipeline", params={"owner": "rita"}, user="mona"))
    assert sum(p["count"] for p in mine["phases"]) == 1


def test_managers_set_up_the_phases(api):
    assert api.client.put("/api/v1/opportunity-phases/pilot", json={"name": "Pilot", "position": 35,
                                                                    "probability": 60, "max_days": 45},
                          headers=api.headers("sam")).status_code == 403
    pilot = api.client.put("/api/v1/opportunity-phases/pilot", json={"name": "Pilotprojekt", "position": 35,
                                                                     "probability": 60, "max_days": 45},
                           headers=api.headers("mona"))
    assert pilot.status_code == 200, pilot.text
    keys = [p["key"] for p in ok(api.get("/opportunity-phases"))]
    assert keys == ["qualification", "analysis", "offer", "negotiation", "won", "lost", "pilot"]  # by position
    acme = customer(api)
    assert opportunity(api, acme["id"], "P", "1000", phase="pilot")["probability"] == 60
    changed = api.client.put("/api/v1/opportunity-phases/won", json={"name": "Gewonnen", "position": 90,
                                                                     "probability": 100, "outcome": "lost"},
                             headers=api.headers("mona"))
    assert changed.status_code == 409


def test_a_lead_is_changed_by_its_owner_a_manager_or_anyone_while_it_has_no_owner(api, kontor):
    otto = ensure_user(kontor, "otto-sales", ["sales"])
    sams = ok(api.post("/leads", {"company_name": "Nur Firma KG"}, user="sam"), 201)  # no person: no contact to add
    refused = patch(api, f"/leads/{sams['id']}", {"score": 90}, otto)
    assert refused.status_code == 403 and "belongs to sam" in refused.json()["error"]["message"], refused.text
    for user in (otto, "ivan"):
        assert api.post(f"/leads/{sams['id']}/convert", {}, user=user).status_code == 403
    unchanged = ok(api.get(f"/leads/{sams['id']}", user="sam"))
    assert (unchanged["score"], unchanged["status"], unchanged["customer_id"]) == (0, "new", None)
    assert ok(patch(api, f"/leads/{sams['id']}", {"score": 90}, "mona"))["score"] == 90
    assert ok(api.post(f"/leads/{sams['id']}/convert", {}, user="sam"))["status"] == "converted"
    unowned = ok(api.post("/leads", {"company_name": "Anfrage per Mail KG"}, user="ivan"), 201)
    assert unowned["owner"] is None
    assert ok(patch(api, f"/leads/{unowned['id']}", {"owner": otto}, otto))["owner"] == otto
    assert patch(api, f"/leads/{unowned['id']}", {"score": 10}, "sam").status_code == 403
