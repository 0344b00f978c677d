"""What may not happen to an offer: its process started or answered from outside, the same person
approving two levels, an answer link used while nobody waits for it. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.messages import correlate_message
from tests.offer_support import answer_token, complete, drive, new_offer, only_task, sales_setup, sent_offer, wait_until
from tests.support import ok

pytestmark = pytest.mark.usefixtures("mail")


def test_offer_processes_and_answers_are_not_open_to_the_generic_endpoints(kontor, api):
    setup = sales_setup(api)
    offer = new_offer(api, setup)
    started = api.post("/process-instances", {"process": "offer_approval", "data": {"offer_id": offer["id"]}},
                       user="sam")
    assert started.status_code == 403 and "business record" in started.json()["error"]["message"]
    answered = api.post("/messages", {"name": "offer_reply", "correlation": {"offer_id": offer["id"]},
                                      "data": {"decision": "accept", "route": "link"}}, user="olga")
    assert answered.status_code == 403


def test_a_process_started_beside_the_offer_cannot_send_it(kontor, api):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "300"}])
    submitted = ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))  # waits for two levels
    facts = {"offer_id": offer["id"], "offer_label": "x", "content_hash": submitted["content_hash"], "currency": "EUR",
             "net_total": "1", "max_line_discount": "0", "header_discount": "0", "margin_percent": "50",
             "over_credit_limit": False, "nonstandard_terms": False, "approval_round": 1, "salesperson": "sam",
             "approval_levels": ["team_lead"], "approval_deputies": {}, "approval_due": "P2D",
             "approval_escalate_after": "P4D"}
    with kontor.transaction() as session:  # as if somebody got past the API with made-up facts
        start_instance(session, kontor.runtime, SYSTEM, "offer_approval", facts)
    incidents = wait_until(lambda: drive(kontor) is not None and ok(api.get("/incidents"))["items"])
    [incident] = incidents  # every attempt refused, then ops see it
    assert incident["operation"] == "offers.render_pdf" and "is not the process of offer" in incident["error"]
    after = ok(api.get(f"/offers/{offer['id']}"))
    assert (after["status"], after["pdf_document_id"]) == ("in_approval", None)


def test_a_made_up_link_answer_is_read_as_unclear(kontor, api, mail):
    setup = sales_setup(api)
    offer = new_offer(api, setup)
    ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    drive(kontor)
    with kontor.transaction() as session:
        correlate_message(session, kontor.runtime, SYSTEM, "offer_reply", {"offer_id": offer["id"]},
                          data={"decision": "accept", "route": "link", "link_id": 999999})
    drive(kontor)
    assert ok(api.get(f"/offers/{offer['id']}"))["status"] == "sent"
    only_task(api, offer, "Task_review_reply")


def test_the_link_waits_while_a_salesperson_reads_a_reply(kontor, api, mail):
    setup = sales_setup(api)
    offer, message = sent_offer(kontor, api, setup, mail)
    token = answer_token(message)
    with kontor.transaction() as session:  # an unclear mail reply: the salesperson reads it
        correlate_message(session, kontor.runtime, SYSTEM, "offer_reply", {"offer_id": offer["id"]},
                          data={"reply_text": "Wir melden uns nächste Woche.", "route": "reply_token"})
    drive(kontor)
    review = only_task(api, offer, "Task_review_reply")
    busy = api.client.post(f"/o/{token}", data={"decision": "accept"})
    assert busy.status_code == 409 and "später noch einmal" in busy.text
    ok(api.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "wait"}}, user="sam"))
    done = api.client.post(f"/o/{token}", data={"decision": "accept"})  # the link still works once
    assert done.status_code == 200 and "Zusage" in done.text
    assert api.edit(f"/offers/{offer['id']}", {"title": "anders"}, user="sam").status_code == 409  # answered
    drive(kontor)
    assert ok(api.get(f"/offers/{offer['id']}"))["status"] == "accepted"


def test_one_person_approves_one_level_only(kontor, api):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "250"}])
    ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))  # team lead, then sales manager
    timers = ok(api.get("/timers", params={"instance_id": ok(api.get(f"/offers/{offer['id']}"))["instance_id"]}))
    [escalation] = [t for t in timers["items"] if t["spec_name"] == "Boundary_approval_escalation"]
    ok(api.post(f"/timers/{escalation['id']}/reschedule", {"due_at": "2000-01-01T00:00:00+00:00"}))
    drive(kontor)
    escalated = only_task(api, offer, "Task_approve_escalated")
    complete(api, escalated, "sven", {"decision": "approve"})  # the team lead's deputy
    second = only_task(api, offer, "Task_approve")
    assert second["candidate_groups"] == ["sales_manager"]
    refused = api.post(f"/tasks/{second['id']}/claim", user="sven")
    assert refused.status_code == 403 and "another approver" in refused.json()["error"]["message"]
