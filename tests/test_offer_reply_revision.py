""""Review customer reply" answers a reply with a new revision (the usual answer to "can you do
something on the price?"): the offer is superseded, its process ends, and the new revision is a
draft that goes through approval as any revision does. An instance started on the model before
this choice existed keeps running on its own version. Driven through the API, the reply sent over
SMTP and read over IMAP, on SQLite and PostgreSQL."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kontor.settings import REPO_ROOT
from runtime.deployment import deploy
from tests.conftest import TEST_BPMN_DIR
from tests.offer_support import complete, customer_replies, drive, only_task, sales_setup, sent_offer
from tests.support import ok

pytestmark = pytest.mark.usefixtures("mail")
# the offer process as deployed before "new revision" was one of the review's choices
FIRST_VERSION = Path(__file__).parent / "model_versions" / "offer_approval_1"


def offer_now(api, offer) -> dict:
    return ok(api.get(f"/offers/{offer['id']}", user="olga"))


def unclear_reply(kontor, api, mail, replies, setup, text="Können Sie beim Preis noch etwas machen?"):
    offer, received = sent_offer(kontor, api, setup, mail)
    customer_replies(mail, replies, received, text)
    drive(kontor)
    return offer, only_task(api, offer, "Task_review_reply")


def test_a_reply_answered_with_a_new_revision_supersedes_the_offer_and_the_revision_goes_to_approval(
        kontor, api, mail, replies):
    setup = sales_setup(api)
    offer, review = unclear_reply(kontor, api, mail, replies, setup)
    sent = offer_now(api, offer)
    assert review["title"] == f"Review customer reply {sent['number']} · ACME Maschinenbau GmbH · 1.200,00 €"
    form = ok(api.get(f"/tasks/{review['id']}", user="sam"))["form_schema"]
    assert "revise" in form["properties"]["decision"]["enum"]
    refused = api.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "revise"}}, user="tara")
    assert refused.status_code == 404  # not hers to see, let alone decide
    ok(api.post(f"/tasks/{review['id']}/complete",
                {"data": {"decision": "revise", "reply_note": "5 % Nachlass angefragt"}}, user="sam"))
    old = offer_now(api, offer)
    assert old["status"] == "superseded"
    instance = ok(api.get(f"/process-instances/{old['instance_id']}", user="olga"))
    assert instance["status"] == "completed" and all(t["state"] != "open" for t in instance["tasks"])
    [first, revision] = ok(api.get(f"/offers/{offer['id']}/revisions", user="sam"))["items"]
    assert (first["id"], revision["revision"], revision["status"]) == (offer["id"], 2, "draft")
    assert revision["number"] == old["number"] and revision["opportunity_id"] == old["opportunity_id"]
    assert instance["variables"]["answer"]["revision_id"] == revision["id"]
    traces = ok(api.get(f"/customers/{setup['customer']['id']}/traces", user="sam"))["items"]
    [revised] = [t for t in traces if t["kind"] == "offer_revised"]
    assert "5 % Nachlass angefragt" in revised["summary"]
    # the revision: a better price, submitted, approved by the team lead (a 15 % discount), sent
    ok(api.put(f"/offers/{revision['id']}/lines", {"lines": [{"product_id": setup["products"]["consulting"]["id"],
                                                              "quantity": "10", "discount_percent": "15"}],
                                                   "version": api.version(f"/offers/{revision['id']}")},
               user="sam"))
    ok(api.post(f"/offers/{revision['id']}/submit", {}, user="sam"))
    approval = only_task(api, revision, "Task_approve")
    assert approval["title"] == f"Approve offer {old['number']}-2 · ACME Maschinenbau GmbH · 1.020,00 €"
    complete(api, approval, "tara", {"decision": "approve"})
    drive(kontor)
    assert offer_now(api, revision)["status"] == "sent"
    assert offer_now(api, offer)["status"] == "superseded"


def test_an_instance_of_the_first_version_keeps_its_choices_after_the_new_version_is_deployed(
        kontor, api, mail, replies, tmp_path):
    folder = tmp_path / "bpmn"
    shutil.copytree(REPO_ROOT / "bpmn", folder)
    for name in ("offer_approval.bpmn", "offer_review_reply.schema.json"):
        shutil.copy(FIRST_VERSION / name, folder / name)
    try:
        with kontor.transaction() as session:
            [first] = [d for d in deploy(session, kontor.runtime, [folder, TEST_BPMN_DIR])
                       if d.process_key == "offer_approval"]
            first_version = first.version
        setup = sales_setup(api)
        offer, received = sent_offer(kontor, api, setup, mail)
    finally:  # the models of today are the latest again, for this test's rest and the tests after it
        with kontor.transaction() as session:
            [current] = [d.version for d in deploy(session, kontor.runtime, [REPO_ROOT / "bpmn", TEST_BPMN_DIR])
                         if d.process_key == "offer_approval"]
            assert current != first_version
    instance_id = offer_now(api, offer)["instance_id"]
    assert ok(api.get(f"/process-instances/{instance_id}", user="olga"))["version"] == first_version
    customer_replies(mail, replies, received, "Können Sie beim Preis noch etwas machen?")
    drive(kontor)
    review = only_task(api, offer, "Task_review_reply")
    assert review["title"] == "Review customer reply"  # the first version names no title
    refused = api.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "revise"}}, user="sam")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "decision"
    assert offer_now(api, offer)["status"] == "sent"
    ok(api.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "accept"}}, user="sam"))
    drive(kontor)
    assert offer_now(api, offer)["status"] == "accepted"
    # a new offer starts on the version of today
    other, _ = sent_offer(kontor, api, sales_setup(api), mail)
    other_instance = ok(api.get(f"/process-instances/{offer_now(api, other)['instance_id']}", user="olga"))
    assert other_instance["version"] == current
