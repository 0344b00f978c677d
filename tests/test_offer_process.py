"""The offer approval process end to end, driven through the API on SQLite and PostgreSQL, with the
service tasks run by real Prefect flows, mail sent over SMTP into Dovecot and replies read back over
IMAP: every path of bpmn/offer_approval.bpmn."""
from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.offers.models import OfferApproval
from tests.mailbox import inbox, wait_for_mail
from tests.offer_support import (
    answer_token,
    complete,
    customer_replies,
    drive,
    new_offer,
    only_task,
    open_tasks,
    sales_setup,
    sent_offer,
)
from tests.support import ok, set_groups
from tests.test_flows import _flow_runs as flow_runs
from tests.test_offer_document import pdf_text

pytestmark = pytest.mark.usefixtures("mail")


def submit(api, offer, user="sam") -> dict:
    return ok(api.post(f"/offers/{offer['id']}/submit", {}, user=user))


def put_lines(api, offer, lines: list, user="sam"):
    """New lines, from the version just read."""
    path = f"/offers/{offer['id']}"
    return api.put(f"{path}/lines", {"lines": lines, "version": api.version(path)}, user=user)


def offer_now(api, offer) -> dict:
    return ok(api.get(f"/offers/{offer['id']}", user="olga"))


def sent_mail(mail, setup, count=1):
    messages = wait_for_mail(mail, setup["address"], count)
    assert len(messages) == count, [m["Subject"] for m in messages]
    return messages[-1]


def traces(api, customer_id) -> list[str]:
    return [t["kind"] for t in ok(api.get(f"/customers/{customer_id}/traces", user="sam"))["items"]]


def move_timer_to_now(api, offer, element: str) -> None:
    timers = ok(api.get("/timers", params={"instance_id": offer_now(api, offer)["instance_id"]}))["items"]
    [timer] = [t for t in timers if t["spec_name"] == element]
    ok(api.post(f"/timers/{timer['id']}/reschedule", {"due_at": datetime.now(timezone.utc).isoformat()}))


def test_an_offer_within_the_salespersons_authority_goes_out_without_approval(kontor, api, mail):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "8"}])
    since = datetime.now(timezone.utc)
    submitted = submit(api, offer)
    assert submitted["status"] == "in_approval" and submitted["number"].startswith("OFF-")
    assert open_tasks(api, offer) == []
    drive(kontor)
    tag = f"offer:{submitted['number']}"  # ops find the runs that rendered and mailed it
    jobs = [run for run, _ in asyncio.run(flow_runs("run-service-jobs", since)) if tag in run.tags]
    assert jobs and any(run.name.startswith("offers.render_pdf") for run in jobs), [r.name for r in jobs]
    assert any(tag in run.tags for run, _ in asyncio.run(flow_runs("send-outbox", since)))
    sent = offer_now(api, offer)
    assert sent["status"] == "sent" and sent["pdf_document_id"] is not None and sent["expires_at"]
    message = sent_mail(mail, setup)
    assert message["Subject"] == f"Ihr Angebot: Netzwerk-Modernisierung [{sent['number']}]"
    [pdf] = list(message.iter_attachments())
    assert pdf.get_filename() == f"Angebot_{sent['number']}.pdf"
    assert pdf.get_content() == api.get(f"/offers/{offer['id']}/pdf", user="sam").content
    assert {"offer_submitted", "offer_sent"} <= set(traces(api, setup["customer"]["id"]))


def test_one_level_approves_and_the_approver_sees_what_to_decide(kontor, api):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "100",
                                          "discount_percent": "5"}])  # 11,400.00 net: above 10,000
    submit(api, offer)
    task = only_task(api, offer, "Task_approve")
    assert task["candidate_groups"] == ["team_lead"] and task["due_at"]
    assert [t["id"] for t in ok(api.get("/tasks", user="tara"))["items"]] == [task["id"]]
    assert ok(api.get("/tasks", user="sven"))["items"] == []
    brief = ok(api.get(f"/tasks/{task['id']}", user="tara"))["context"]
    assert brief["approval"]["rule"] == "net total above 10,000" and brief["approval"]["current_level"] == "team_lead"
    assert brief["offer"]["net_total"] == "11400.00" and brief["offer"]["margin_percent"] == "45.18"
    assert Decimal(brief["offer"]["lines"][0]["unit_cost"]) == Decimal("62.50")
    assert Decimal(brief["customer"]["credit_limit"]) == 100000 and brief["customer"]["open_items_total"] == "0.00"
    # as people read them: amounts by currency and locale, quantities with their unit, per Accept-Language
    assert brief["shown"]["net_total"] == "11.400,00\xa0€" and brief["shown"]["lines"][0]["quantity"] == "100 Stunden"
    assert brief["shown"]["credit_limit"] == "100.000,00\xa0€" and brief["shown"]["margin_percent"] == "45,18 %"
    english = ok(api.get(f"/tasks/{task['id']}", user="tara", headers={"Accept-Language": "en"}))["context"]["shown"]
    assert (english["net_total"], english["lines"][0]["quantity"]) == ("€11,400.00", "100 hours")
    complete(api, task, "tara", {"decision": "approve"})
    drive(kontor)
    approved = offer_now(api, offer)
    assert approved["status"] == "sent"
    [approval] = approved["approvals"]
    assert (approval["level"], approval["decision"], approval["decided_by"]) == ("team_lead", "approved", "tara")
    assert approval["content_hash"] == approved["content_hash"]


def test_two_levels_run_level_by_level(kontor, api):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "250"}])
    submit(api, offer)  # 30,000.00 net: the sales manager's level, after the team lead
    first = only_task(api, offer, "Task_approve")
    assert first["candidate_groups"] == ["team_lead"]
    complete(api, first, "tara", {"decision": "approve"})
    second = only_task(api, offer, "Task_approve")
    assert second["candidate_groups"] == ["sales_manager"]
    assert offer_now(api, offer)["status"] == "in_approval"
    complete(api, second, "sven", {"decision": "approve"})
    drive(kontor)
    done = offer_now(api, offer)
    assert done["status"] == "sent"
    assert [(a["level"], a["decided_by"]) for a in done["approvals"]] == [("team_lead", "tara"),
                                                                          ("sales_manager", "sven")]


def test_reject_rework_resubmit_then_approve(kontor, api):
    setup = sales_setup(api)
    consulting = setup["products"]["consulting"]["id"]
    offer = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": "10", "discount_percent": "15"}])
    submit(api, offer)
    task = only_task(api, offer, "Task_approve")
    outsider = api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "reject", "reason": "no"}},
                        user="olga")  # ops see every task, but work none outside their groups
    assert outsider.status_code == 403, outsider.text
    no_reason = api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "reject"}}, user="tara")
    assert no_reason.status_code == 422, no_reason.text  # a rejection needs its reason
    assert "reason" in no_reason.text
    assert only_task(api, offer, "Task_approve")["id"] == task["id"]  # neither did anything
    complete(api, task, "tara", {"decision": "reject", "reason": "15 % is too much for 10 hours"})
    assert offer_now(api, offer)["status"] == "rework"
    rework = only_task(api, offer, "Task_rework")
    assert rework["assignee"] == "sam"
    brief = ok(api.get(f"/tasks/{rework['id']}", user="sam"))["context"]
    assert brief["approval"]["decisions"][0]["reason"] == "15 % is too much for 10 hours"
    ok(put_lines(api, offer, [{"product_id": consulting, "quantity": "10", "discount_percent": "12"}]))
    resubmitted = submit(api, offer)
    assert resubmitted["status"] == "in_approval" and resubmitted["approval_round"] == 2
    again = only_task(api, offer, "Task_approve")  # 12 % is still a team lead's call
    complete(api, again, "tara", {"decision": "approve"})
    drive(kontor)
    final = offer_now(api, offer)
    assert final["status"] == "sent" and final["number"] == resubmitted["number"]
    assert [(a["decision"], a["voided_at"] is not None) for a in final["approvals"]] == [("rejected", True),
                                                                                       ("approved", False)]


def test_a_change_after_approval_voids_it_and_approval_starts_again(kontor, api):
    setup = sales_setup(api)
    consulting = setup["products"]["consulting"]["id"]
    offer = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": "100"}])
    submit(api, offer)
    complete(api, only_task(api, offer, "Task_approve"), "tara", {"decision": "approve"})
    # approved, the PDF not yet rendered: the salesperson changes the quantity
    changed = ok(put_lines(api, offer, [{"product_id": consulting, "quantity": "120"}]))
    assert changed["status"] == "in_approval" and changed["approval_round"] == 2
    assert [a["voided_at"] is not None for a in changed["approvals"]] == [True]
    drive(kontor)  # the old process's render job was cancelled: nothing goes out
    assert offer_now(api, offer)["status"] == "in_approval" and offer_now(api, offer)["pdf_document_id"] is None
    task = only_task(api, offer, "Task_approve")
    complete(api, task, "tina", {"decision": "approve"})
    drive(kontor)
    final = offer_now(api, offer)
    assert final["status"] == "sent"
    live = [a for a in final["approvals"] if a["voided_at"] is None]
    assert [(a["decided_by"], a["content_hash"]) for a in live] == [("tina", final["content_hash"])]


def test_nobody_approves_an_offer_they_created_or_last_changed(kontor, api):
    setup = sales_setup(api)
    consulting = setup["products"]["consulting"]["id"]
    set_groups(kontor, "mona", ["manager", "team_lead"])  # a manager who is a team lead as well
    set_groups(kontor, "sam", ["sales", "team_lead"])
    try:
        offer = new_offer(api, setup, user="mona", lines=[{"product_id": consulting, "quantity": "100"}])
        submit(api, offer, user="mona")
        task = only_task(api, offer, "Task_approve")
        refused = api.post(f"/tasks/{task['id']}/claim", user="mona")  # she created it
        assert refused.status_code == 403 and "four eyes" in refused.json()["error"]["message"]
        # sam, the customer's salesperson, changes it: approval restarts
        ok(put_lines(api, offer, [{"product_id": consulting, "quantity": "110"}]))
        task = only_task(api, offer, "Task_approve")
        assert api.post(f"/tasks/{task['id']}/claim", user="sam").status_code == 403  # he changed it last
        ok(api.post(f"/tasks/{task['id']}/claim", user="tara"))
        refused = api.post(f"/tasks/{task['id']}/delegate", {"assignee": "sam"}, user="tara")  # nor through tara
        assert refused.status_code == 422 and "four eyes" in refused.json()["error"]["details"][0]["message"]
        assert only_task(api, offer, "Task_approve")["assignee"] == "tara"
        assert offer_now(api, offer)["approvals"] == []
    finally:
        set_groups(kontor, "sam", ["sales"])
        set_groups(kontor, "mona", ["manager"])


def test_two_approvers_completing_at_once_give_one_approval(kontor, api):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "100"}])
    submit(api, offer)
    task = only_task(api, offer, "Task_approve")
    barrier, answers = threading.Barrier(2), {}

    def approve(user):
        barrier.wait()
        answers[user] = api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user=user)

    api.token("tara"), api.token("tina")
    threads = [threading.Thread(target=approve, args=(user,)) for user in ("tara", "tina")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers.values()) == [200, 409], {u: r.text for u, r in answers.items()}
    with kontor.transaction() as session:
        assert len(session.scalars(select(OfferApproval).where(OfferApproval.offer_id == offer["id"])).all()) == 1


def test_an_overdue_approval_reminds_the_approvers_then_goes_to_the_deputies(kontor, api, mail):
    setup = sales_setup(api)
    offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "100"}])
    submit(api, offer)
    task = only_task(api, offer, "Task_approve")
    before = {user: len(inbox(mail, f"{user}@kontor.test")) for user in ("tara", "tina")}  # one mailbox per worker
    move_timer_to_now(api, offer, "Boundary_approval_reminder")
    drive(kontor)
    for user in ("tara", "tina"):
        received = wait_for_mail(mail, f"{user}@kontor.test", before[user] + 1)
        assert len(received) == before[user] + 1
        assert received[-1]["Subject"].startswith("Freigabe fällig: Netzwerk-Modernisierung")
    assert only_task(api, offer)["id"] == task["id"]  # the reminder does not take the task away
    move_timer_to_now(api, offer, "Boundary_approval_escalation")
    drive(kontor)
    escalated = only_task(api, offer, "Task_approve_escalated")
    assert escalated["id"] != task["id"] and escalated["candidate_groups"] == ["sales_manager"]
    assert escalated["priority"] == 80
    assert ok(api.get(f"/tasks/{escalated['id']}", user="sven"))["context"]["approval"]["escalated"] is True
    complete(api, escalated, "sven", {"decision": "approve"})
    drive(kontor)
    [approval] = offer_now(api, offer)["approvals"]
    assert (approval["level"], approval["approver_group"], approval["decided_by"]) == ("team_lead", "sales_manager",
                                                                                       "sven")


def test_the_customer_accepts_by_mail_and_an_order_follows(kontor, api, mail, replies):
    setup = sales_setup(api)
    offer, received = sent_offer(kontor, api, setup, mail)
    assert customer_replies(mail, replies, received, "Vielen Dank, wir nehmen das Angebot an.") == [
        {"mailbox": "antwort", "routed": 1}]
    drive(kontor)
    accepted = offer_now(api, offer)
    assert accepted["status"] == "accepted"
    [order] = ok(api.get("/orders", params={"customer_id": setup["customer"]["id"]}, user="sam"))["items"]
    assert order["number"].startswith("ORD-") and order["offer_id"] == offer["id"]
    assert (order["accepted_via"], order["gross_total"]) == ("mail", accepted["gross_total"])
    detail = ok(api.get(f"/orders/{order['id']}", user="sam"))
    assert [(line["sku"], line["quantity"], line["net"]) for line in detail["lines"]] == [
        (line["sku"], line["quantity"], line["net"]) for line in accepted["lines"]]
    opportunity = ok(api.get(f"/opportunities/{accepted['opportunity_id']}", user="sam"))
    assert opportunity["state"] == "won" and opportunity["amount"] == accepted["net_total"]
    confirmation = sent_mail(mail, setup, 2)
    assert confirmation["Subject"] == f"Auftragsbestätigung zu Angebot {accepted['number']} [{order['number']}]"
    # threaded under the customer's reply, which answered the offer mail (RFC 5322 3.6.4)
    assert confirmation["In-Reply-To"].endswith("@customer.example.test>")  # the reply tests.mailbox.answer wrote
    assert confirmation["References"].split() == [received["Message-ID"], confirmation["In-Reply-To"]]
    [pdf] = list(confirmation.iter_attachments())
    assert pdf.get_filename() == f"Auftragsbestaetigung_{order['number']}.pdf"
    text = pdf_text(pdf.get_content())[1]
    for needed in (f"Auftragsbestätigung {order['number']}", f"Zu Angebot {accepted['number']}",
                   "Sehr geehrte Damen und Herren,", "10 Stunden", "1.200,00 €", "1.428,00 €", "Gesamtbetrag"):
        assert needed in text, needed
    assert {"offer_accepted", "order_created", "opportunity_won", "customer_activated"} <= set(
        traces(api, setup["customer"]["id"]))
    assert ok(api.get(f"/customers/{setup['customer']['id']}"))["status"] == "active"  # a lead no more


def test_the_customer_declines_by_link_once(kontor, api, mail):
    setup = sales_setup(api)
    offer, received = sent_offer(kontor, api, setup, mail)
    token = answer_token(received)
    page = api.client.get(f"/o/{token}")
    assert page.status_code == 200 and "Angebot ablehnen" in page.text
    assert offer_now(api, offer)["status"] == "sent"  # looking changes nothing
    done = api.client.post(f"/o/{token}", data={"decision": "decline", "reason": "Zu teuer für uns"})
    assert done.status_code == 200 and "Absage" in done.text
    assert "bereits verwendet" not in done.text and 'id="problem"' not in done.text
    again = api.client.post(f"/o/{token}", data={"decision": "accept"})
    assert again.status_code == 410 and "bereits verwendet" in again.text
    assert "Sie haben dieses Angebot am" in again.text and "abgelehnt" in again.text  # what, and when
    revisit = api.client.get(f"/o/{token}")
    assert revisit.status_code == 410 and "abgelehnt" in revisit.text and 'name="decision"' not in revisit.text
    drive(kontor)
    declined = offer_now(api, offer)
    assert declined["status"] == "declined" and declined["answer_note"] == "Zu teuer für uns"
    opportunity = ok(api.get(f"/opportunities/{declined['opportunity_id']}", user="sam"))
    assert opportunity["state"] == "lost" and opportunity["lost_reason"] == "Zu teuer für uns"
    assert ok(api.get("/orders", user="sam"))["total"] == 0


def test_an_unclear_reply_asks_the_salesperson_who_decides(kontor, api, mail, replies):
    setup = sales_setup(api)
    offer, received = sent_offer(kontor, api, setup, mail)
    customer_replies(mail, replies, received, "Können Sie bis Freitag liefern?")
    drive(kontor)
    review = only_task(api, offer, "Task_review_reply")
    assert review["assignee"] == "sam"
    context = ok(api.get(f"/tasks/{review['id']}", user="sam"))["context"]
    assert context["reply"]["reply_text"] == "Können Sie bis Freitag liefern?"
    ok(api.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "wait"}}, user="sam"))
    assert offer_now(api, offer)["status"] == "sent"
    customer_replies(mail, replies, received, "Passt, wir bestellen.", count=2)
    drive(kontor)
    assert offer_now(api, offer)["status"] == "accepted"


def test_a_reminder_before_the_end_of_validity_and_expiry_at_its_end(kontor, api, mail):
    setup = sales_setup(api)
    offer = new_offer(api, setup)
    submit(api, offer)
    drive(kontor)
    sent_mail(mail, setup)
    move_timer_to_now(api, offer, "Boundary_customer_reminder")
    drive(kontor)
    reminder = sent_mail(mail, setup, 2)
    assert reminder["Subject"].startswith("Erinnerung: Ihr Angebot gilt bis")
    move_timer_to_now(api, offer, "Boundary_expiry")
    drive(kontor)
    expired = offer_now(api, offer)
    assert expired["status"] == "expired"
    opportunity = ok(api.get(f"/opportunities/{expired['opportunity_id']}", user="sam"))
    assert opportunity["state"] == "lost" and "expired" in opportunity["lost_reason"]
    assert {"offer_reminder_sent", "offer_expired"} <= set(traces(api, setup["customer"]["id"]))
    revised = ok(api.post(f"/offers/{offer['id']}/revisions", user="sam"), 201)  # a second chance
    assert revised["revision"] == 2 and revised["opportunity_id"] is None  # a draft: none until it is submitted
    resubmitted = submit(api, revised)
    assert resubmitted["opportunity_id"] not in (None, expired["opportunity_id"])
    assert ok(api.get(f"/opportunities/{resubmitted['opportunity_id']}", user="sam"))["state"] == "open"


def test_the_approver_of_a_revision_sees_what_changed(kontor, api, mail):
    setup = sales_setup(api)
    consulting = setup["products"]["consulting"]["id"]
    offer = new_offer(api, setup)
    sent = submit(api, offer)
    drive(kontor)
    pdf = api.get(f"/offers/{offer['id']}/pdf", user="sam")
    assert pdf.headers["x-content-sha256"] == hashlib.sha256(pdf.content).hexdigest()
    revision = ok(put_lines(api, offer, [{"product_id": consulting, "quantity": "100"}]))
    assert (revision["revision"], revision["number"]) == (2, sent["number"])
    submit(api, revision)
    task = only_task(api, revision, "Task_approve")
    changes = ok(api.get(f"/tasks/{task['id']}", user="tara"))["context"]["previous_revision"]
    assert changes["label"] == sent["number"]
    [line] = changes["changes"]["lines_changed"]
    assert line["changes"]["quantity"] == {"before": "10", "after": "100"}


def test_an_english_customer_accepts_by_link_and_the_confirmation_answers_the_offer_mail(kontor, api, mail):
    setup = sales_setup(api, contact={"language": "en", "salutation": "Ms", "first_name": "Jane",
                                      "last_name": "Smith"})
    offer, received = sent_offer(kontor, api, setup, mail)
    assert received.get_body(("plain",)).get_content().startswith("Dear Ms Smith,\r\n")
    body = received.get_body(("plain",)).get_content()
    assert "€1,428.00" in body
    assert "Your sales team\r\nsam@kontor.test\r\n" in body and "\r\nsam\r\n" not in body  # no user names
    done = api.client.post(f"/o/{answer_token(received)}", data={"decision": "accept"})
    assert done.status_code == 200 and "€1,428.00" in done.text
    drive(kontor)
    [order] = ok(api.get("/orders", params={"customer_id": setup["customer"]["id"]}, user="sam"))["items"]
    confirmation = sent_mail(mail, setup, 2)
    assert confirmation["In-Reply-To"] == received["Message-ID"]
    assert confirmation["References"] == received["Message-ID"]
    assert confirmation.get_body(("plain",)).get_content().startswith("Dear Ms Smith,\r\n")
    [pdf] = list(confirmation.iter_attachments())
    assert pdf.get_filename() == f"Order_confirmation_{order['number']}.pdf"
    text = pdf_text(pdf.get_content())[1]
    for needed in (f"Order confirmation {order['number']}", "Dear Ms Smith,", "10 hours", "€1,428.00"):
        assert needed in text, needed
    assert "Stunden" not in text and "Auftrag" not in text


def test_traces_read_in_the_readers_language_with_amounts_by_locale(kontor, api, mail):
    setup = sales_setup(api)
    offer, received = sent_offer(kontor, api, setup, mail)
    api.client.post(f"/o/{answer_token(received)}", data={"decision": "accept"})
    drive(kontor)
    number = offer_now(api, offer)["number"]
    [order] = ok(api.get("/orders", params={"customer_id": setup["customer"]["id"]}, user="sam"))["items"]

    def summaries(language: str | None) -> dict:
        headers = {"Accept-Language": language} if language else {}
        items = ok(api.get(f"/customers/{setup['customer']['id']}/traces", user="sam", headers=headers))["items"]
        return {t["kind"]: t["summary"] for t in items}

    english, german = summaries("en-GB,en;q=0.9,de;q=0.5"), summaries("de-DE")
    assert english["order_created"] == f"order {order['number']} from offer {number} (€1,428.00)"
    assert german["order_created"] == f"Auftrag {order['number']} aus Angebot {number} (1.428,00\xa0€)"
    assert english["offer_accepted"] == f"offer {number} accepted (by link)"
    assert german["offer_accepted"] == f"Angebot {number} angenommen (über den Link)"
    assert german["offer_sent"] == f"Angebot {number} an {setup['address']} gesendet"
    assert german["offer_submitted"] == f"Angebot {number} zur Freigabe eingereicht: keine Freigabe nötig"
    assert german["customer_activated"] == f"aktiver Kunde seit Auftrag {order['number']} (vorher Interessent)"
    assert summaries(None) == german  # no Accept-Language: German
    assert summaries("fr-FR, en;q=0.3") == english
    for text in (*english.values(), *german.values()):
        assert "1428.00" not in text and "EUR" not in text
    overview = ok(api.get(f"/customers/{setup['customer']['id']}/overview", user="sam",
                          headers={"Accept-Language": "en"}))
    assert {t["summary"] for t in overview["last_traces"]} <= set(english.values())


def test_an_order_with_nobody_left_to_confirm_to_stands_and_says_so_once(kontor, api, mail):
    setup = sales_setup(api)
    offer, received = sent_offer(kontor, api, setup, mail)
    from domain.customers.models import Contact

    with kontor.transaction() as session:  # the contact left the company after the offer went out
        session.get(Contact, setup["contact"]["id"]).active = False
    api.client.post(f"/o/{answer_token(received)}", data={"decision": "accept"})
    drive(kontor)
    assert offer_now(api, offer)["status"] == "accepted"
    [order] = ok(api.get("/orders", params={"customer_id": setup["customer"]["id"]}, user="sam"))["items"]
    assert traces(api, setup["customer"]["id"]).count("order_not_confirmed") == 1
    assert len(inbox(mail, setup["address"])) == 1  # the offer only
    from kernel.documents import Document

    with kontor.transaction() as session:  # nothing rendered for nobody
        assert session.scalars(select(Document).where(Document.owner_type == "order",
                                                      Document.owner_id == order["id"])).all() == []
