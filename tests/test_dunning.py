"""Dunning through the real process (bpmn/dunning.bpmn with its DMN), the real worker and Prefect,
on SQLite and PostgreSQL: the daily run starts a case for an overdue invoice; the reminder, then the
first dunning letter with default interest and the 40 € flat fee, are written, rendered and queued
with their PDFs; a payment stops the case and no further letter goes out; a dispute pauses it in the
task "Klärfall"; a consumer's case runs to the hand-over; who may do what."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.dunning.models import DunningLetter
from mailers.outbox import OutboxMail
from runtime.models import ProcessInstance
from tests.dunning_support import case_of, dunning_run, overdue_invoice, time_is_up
from tests.invoice_support import deliver, draft, drive, issue, issue_now, order_of, sales_setup
from tests.support import ensure_user, ok
from tests.test_flows import _flow_runs

pytestmark = pytest.mark.usefixtures("prefect")
TODAY = date.today()


def dunning_setup(api, **customer) -> dict:
    return sales_setup(api, customer={"payment_days": 14, **customer},
                       contact={"receives": ["offers", "invoices", "dunning"]})


def tasks_of(api, case: dict, user: str = "alma") -> list[dict]:
    return ok(api.get("/tasks", params={"instance_id": case["instance_id"]}, user=user))["items"]


def mails_of(kontor, letter_ids: list[int]) -> list[OutboxMail]:
    with kontor.transaction() as session:
        return list(session.scalars(select(OutboxMail).where(
            OutboxMail.dedupe_key.in_([f"dunning-letter:{i}" for i in letter_ids])).order_by(OutboxMail.id)))


def test_reminder_then_first_dunning_letter_then_a_payment_stops_it(kontor, api):
    setup = dunning_setup(api)
    invoice = overdue_invoice(kontor, api, setup, hours="10", days_ago=60)  # 1428.00, due 46 days ago
    assert invoice["due_date"] == (TODAY - timedelta(days=46)).isoformat() and invoice["gross_total"] == "1428.00"
    since = datetime.now(timezone.utc)
    run = dunning_run(kontor)
    assert run["started"] == [invoice["number"]]
    [(flow_run, _)] = asyncio.run(_flow_runs("dunning-run", since))
    assert flow_run.name == f"dunning run {TODAY.isoformat()}: 1 invoice ({invoice['number']})"
    assert f"invoice:{invoice['number']}" in flow_run.tags
    assert dunning_run(kontor)["started"] == []  # a case runs: a second run starts none
    drive(kontor)

    case = case_of(api, invoice)
    assert (case["status"], case["level"]) == ("running", 1)
    [reminder] = case["letters"]
    assert reminder["kind"] == "reminder" and reminder["open_amount"] == "1428.00"
    assert reminder["pay_by"] == (TODAY + timedelta(days=10)).isoformat() and reminder["sent"]
    # a business customer is in default 30 days after due date and receipt (§286 (3) BGB): 15 days here
    assert reminder["interest_from"] == (TODAY - timedelta(days=15)).isoformat()
    assert Decimal(reminder["interest"]) > 0 and reminder["flat_fee"] == "0.00" and reminder["fee"] == "0.00"

    time_is_up(kontor, api, case)  # 14 days without payment
    case = case_of(api, invoice)
    assert (case["status"], case["level"]) == ("running", 2)
    first = case["letters"][1]
    assert first["kind"] == "dunning_1" and first["flat_fee"] == "40.00" and first["fee"] == "0.00"
    [period] = first["interest_periods"]  # 1.27 + 9 points, from the first day of default to today
    assert period["rate"] == "10.27" and period["days"] == 16
    expected = (Decimal("1428.00") * Decimal("10.27") / 100 * 16 / 365).quantize(Decimal("0.01"))
    assert Decimal(first["interest"]) == expected
    assert Decimal(first["total_claim"]) == Decimal("1428.00") + expected + Decimal("40.00")
    mails = mails_of(kontor, [reminder["id"], first["id"]])
    assert [m.template for m in mails] == ["dunning", "dunning"] and all(m.attachments for m in mails)
    assert mails[0].to_address == setup["address"]
    pdf = api.get(f"/dunning/letters/{first['id']}/pdf", user="alma")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    ok(api.post("/payments", {"customer_id": setup["customer"]["id"], "amount": "1428.00", "currency": "EUR",
                              "booking_date": TODAY.isoformat(), "source": "manual",
                              "allocations": [{"invoice_id": invoice["id"], "amount": "1428.00"}]}, user="alma"), 201)
    case = case_of(api, invoice)
    assert case["status"] == "settled" and case["ended_on"] == TODAY.isoformat()
    with kontor.transaction() as session:
        assert session.get(ProcessInstance, case["instance_id"]).status == "completed"
        assert session.scalar(select(DunningLetter.id).where(DunningLetter.level == 3,
                                                             DunningLetter.dunning_id == case["id"])) is None
    assert dunning_run(kontor)["started"] == []  # paid: never dunned again


def test_a_dispute_pauses_dunning_in_klaerfall_until_accounting_decides(kontor, api):
    setup = dunning_setup(api)
    invoice = overdue_invoice(kontor, api, setup, hours="2")
    dunning_run(kontor)
    drive(kontor)
    case = case_of(api, invoice)
    ok(api.post(f"/dunning/{case['id']}/dispute", {"reason": "Leistung nicht erbracht"}, user="sam"), 403)
    disputed = ok(api.post(f"/dunning/{case['id']}/dispute", {"reason": "Leistung nicht erbracht"}, user="alma"))
    assert disputed["status"] == "disputed"
    ok(api.post(f"/dunning/{case['id']}/dispute", {"reason": "noch einmal"}, user="alma"), 409)
    drive(kontor)
    [task] = tasks_of(api, case)
    assert task["name"] == "Task_dispute" and task["title"].startswith("Klärfall: " + invoice["number"])
    brief = ok(api.get(f"/tasks/{task['id']}", user="alma"))["context"]  # what accounting reads beside it
    assert ok(api.get(f"/tasks/{task['id']}", user="olga"))["context"] is None  # ops see the task, not the case
    assert brief["dispute"] == {"reason": "Leistung nicht erbracht", "by": "alma"}
    assert (brief["case"]["status"], brief["invoice"]["number"]) == ("disputed", invoice["number"])
    assert [letter["kind"] for letter in brief["letters"]] == ["reminder"]
    assert brief["invoice"]["open_amount"] == invoice["gross_total"] and brief["invoice"]["days_overdue"] > 0
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "resume", "note": "x"}}, user="sam"), 404)
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "stop", "note": "Gutschrift folgt"}},
                user="alma"))
    drive(kontor)
    case = case_of(api, invoice)
    assert case["status"] == "stopped" and case["outcome"] == "Gutschrift folgt" and case["level"] == 1
    assert dunning_run(kontor)["started"] == []  # stopped for good: the run leaves it alone


def test_a_consumer_pays_letter_costs_not_the_flat_fee_and_is_handed_over_after_the_second_letter(kontor, api):
    setup = dunning_setup(api, consumer=True, name="Erika Mustermann")
    invoice = overdue_invoice(kontor, api, setup, hours="1")
    dunning_run(kontor)
    drive(kontor)
    case = case_of(api, invoice)
    assert case["consumer"] and case["letters"][0]["interest_from"] is None  # no default before the reminder
    time_is_up(kontor, api, case)
    time_is_up(kontor, api, case)
    case = case_of(api, invoice)
    assert [(x["kind"], x["fee"], x["flat_fee"], x["fees_before"]) for x in case["letters"]] == [
        ("reminder", "0.00", "0.00", "0.00"), ("dunning_1", "2.50", "0.00", "0.00"),
        ("dunning_2", "2.50", "0.00", "2.50")]
    # a consumer is in default only from the day after the reminder (tomorrow here): no interest yet
    assert [(x["interest_from"], x["interest"]) for x in case["letters"]] == [(None, "0.00")] * 3
    assert [m.to_address for m in mails_of(kontor, [x["id"] for x in case["letters"]])] == [setup["address"]] * 3
    time_is_up(kontor, api, case)
    [task] = tasks_of(api, case)
    assert task["name"] == "Task_handover"
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"handed_to": "collection_agency",
                                                           "note": "Inkasso Nord, Az. 4711"}}, user="alma"))
    case = case_of(api, invoice)
    assert case["status"] == "handed_over" and case["outcome"] == "collection_agency: Inkasso Nord, Az. 4711"


def test_who_may_see_and_run_dunning(kontor, api):
    setup = dunning_setup(api)
    ensure_user(kontor, "pia-dunning", ["portal"], customer_id=setup["customer"]["id"])
    for user, status in (("sam", 403), ("olga", 403), ("pia-dunning", 404)):
        ok(api.get("/dunning", user=user), status)
        ok(api.post("/dunning/runs", user=user), status)
    assert ok(api.post("/dunning/runs", user="mona"))["left"] == 0
    ok(api.get("/dunning/999999", user="alma"), 404)
    ok(api.get("/dunning/letters/999999/pdf", user="alma"), 404)


def test_a_credit_note_that_settles_the_invoice_ends_its_dunning_and_its_own_process(kontor, api):
    setup = dunning_setup(api)
    overdue = overdue_invoice(kontor, api, setup, hours="3")
    dunning_run(kontor)
    drive(kontor)
    case = case_of(api, overdue)
    assert case["level"] == 1
    note = ok(api.post(f"/invoices/{overdue['id']}/credit-notes", {"reason": "Storno"}, user="alma"), 201)
    issue_now(kontor, api, note)
    case = case_of(api, overdue)
    assert case["status"] == "settled"
    with kontor.transaction() as session:
        assert session.get(ProcessInstance, case["instance_id"]).status == "completed"
    # an invoice issued through its process waits until it is settled: a payment ends that wait
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "1"})
    [made] = draft(api, order_id=order["id"])
    issued = issue(kontor, api, made)
    with kontor.transaction() as session:
        assert session.get(ProcessInstance, issued["instance_id"]).status == "running"
    ok(api.post("/payments", {"customer_id": setup["customer"]["id"], "amount": issued["gross_total"],
                              "booking_date": TODAY.isoformat(),
                              "allocations": [{"invoice_id": issued["id"], "amount": issued["gross_total"]}]},
                user="alma"), 201)
    with kontor.transaction() as session:
        assert session.get(ProcessInstance, issued["instance_id"]).status == "completed"
