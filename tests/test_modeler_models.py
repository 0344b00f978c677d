"""Models saved by other modelers, run end to end through the runtime on SQLite and PostgreSQL:
SpiffArena's message correlation (correlation key and property, processVariableCorrelation), and
Camunda Modeler 7's camunda: user task attributes and literal ISO 8601 timers (tests/bpmn/)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kernel.errors import ValidationFailed
from kernel.principal import SYSTEM, Principal
from runtime.human_tasks import complete_task
from runtime.instances import start_instance
from runtime.messages import correlate_message
from runtime.models import HumanTask, Message, MessageSubscription, ProcessInstance, Timer
from runtime.timers import fire_due_timers

SAM = Principal("sam", frozenset({"sales"}))
RITA = Principal("rita", frozenset({"reviewer", "sales"}))


def start(kontor, process: str, **data) -> int:
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, process, data)
        return instance.id


def send(kontor, name: str, correlation: dict | None = None, data: dict | None = None) -> Message:
    with kontor.transaction() as session:
        message = correlate_message(session, kontor.runtime, SYSTEM, name, correlation or {}, data).message
        session.expunge(message)
        return message


def open_task(kontor, instance_id: int) -> HumanTask | None:
    with kontor.transaction() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open"))
        if task is not None:
            session.expunge(task)
        return task


def complete(kontor, task: HumanTask, who: Principal = SAM, **data) -> None:
    with kontor.transaction() as session:
        complete_task(session, kontor.runtime, task.id, who, data)


def instance(kontor, instance_id: int) -> ProcessInstance:
    with kontor.transaction() as session:
        found = session.get(ProcessInstance, instance_id)
        session.expunge(found)
        return found


# ----------------------------------------------------------------- SpiffArena: correlation keys and properties
def test_an_early_message_is_buffered_then_delivered_by_its_correlation_property(kontor):
    claim = start(kontor, "test_spiffarena_claim", claim_number="C-1")
    other = start(kontor, "test_spiffarena_claim", claim_number="C-2")
    # the documents come before the review is done: nobody waits yet, the message is buffered
    early = send(kontor, "claim_documents", data={"claim_number": "C-1", "pages": 3})
    assert (early.status, early.correlation) == ("buffered", {"claim_number": "C-1"})
    wrong = send(kontor, "claim_documents", data={"claim_number": "C-9", "pages": 1})
    assert wrong.status == "buffered"
    review = open_task(kontor, claim)
    assert (review.spec_name, review.candidate_groups) == ("Activity_review_claim", ["sales"])
    complete(kontor, review)  # the catch event is reached: the buffered message is delivered at once
    settle = open_task(kontor, claim)
    assert settle.spec_name == "Activity_settle_claim"
    assert instance(kontor, claim).variables["documents"] == {"claim_number": "C-1", "pages": 3}
    with kontor.transaction() as session:
        statuses = {m.message_id: (m.status, m.instance_id) for m in session.scalars(select(Message))}
        assert statuses[early.message_id] == ("delivered", claim)
        assert statuses[wrong.message_id] == ("buffered", None)  # C-9: no claim has that number
    # the other claim, reaching its catch event, does not take the C-9 message either
    complete(kontor, open_task(kontor, other))
    assert open_task(kontor, other) is None
    with kontor.transaction() as session:
        waiting = session.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == other)).all()
        assert [(w.message_name, w.correlation_key) for w in waiting] == [("claim_documents",
                                                                          '{"claim_number":"C-2"}')]
        assert session.get(Message, wrong.id).status == "buffered"
    assert send(kontor, "claim_documents", data={"claim_number": "C-2"}).status == "delivered"
    assert open_task(kontor, other).spec_name == "Activity_settle_claim"
    complete(kontor, settle)
    assert instance(kontor, claim).status == "completed"


def test_a_boundary_message_matches_by_the_retrieval_expression_or_an_explicit_property_value(kontor):
    by_payload = start(kontor, "test_spiffarena_claim", claim_number="C-3")
    by_property = start(kontor, "test_spiffarena_claim", claim_number="C-4")
    # the retrieval expression of claim_withdrawn reads claim["number"] from the message's data
    assert send(kontor, "claim_withdrawn", data={"claim": {"number": "C-3"}}).status == "delivered"
    assert instance(kontor, by_payload).status == "completed"
    assert open_task(kontor, by_payload) is None  # the interrupted review is cancelled
    assert send(kontor, "claim_withdrawn", {"claim_number": "C-404"}).status == "buffered"
    assert instance(kontor, by_property).status == "running"
    assert send(kontor, "claim_withdrawn", {"claim_number": "C-4"}).status == "delivered"
    assert instance(kontor, by_property).status == "completed"
    with pytest.raises(ValidationFailed) as unknown:
        send(kontor, "claim_withdrawn", {"claim_id": "C-4"})
    assert "claim_id" in str(unknown.value)
    with pytest.raises(ValidationFailed) as missing:
        send(kontor, "claim_withdrawn", data={"reason": "no number"})
    assert 'claim["number"]' in str(missing.value)


def test_the_message_api_correlates_a_message_that_carries_only_its_payload(kontor, api):
    claim = start(kontor, "test_spiffarena_claim", claim_number="C-5")
    response = api.post("/messages", {"name": "claim_withdrawn", "data": {"claim": {"number": "C-5"}}}, user="ivan")
    assert response.status_code in (200, 201, 202), response.text
    assert response.json()["status"] == "delivered"
    assert instance(kontor, claim).status == "completed"
    refused = api.post("/messages", {"name": "claim_withdrawn", "data": {}}, user="ivan")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "correlation"


# ----------------------------------------------------------------- Camunda Modeler 7
def test_a_camunda_model_runs_with_its_task_attributes_and_literal_timers(kontor):
    before = datetime.now(timezone.utc)
    claim = start(kontor, "test_camunda_claim", adjuster="rita")
    assess = open_task(kontor, claim)
    assert (assess.title, assess.candidate_groups, assess.candidate_users) == ("Assess claim", ["sales"], ["rita"])
    assert assess.priority == 70 and assess.assignee is None
    assert before + timedelta(days=2) <= assess.due_at <= datetime.now(timezone.utc) + timedelta(days=2)
    assert assess.form_schema["required"] == ["approved"]
    with kontor.transaction() as session:
        deadline = session.scalar(select(Timer).where(Timer.instance_id == claim))
        assert (deadline.spec_name, deadline.due_at) == ("Event_deadline",
                                                         datetime(2026, 12, 24, 10, tzinfo=timezone.utc))
    with pytest.raises(ValidationFailed):  # the form key's JSON schema is enforced
        complete(kontor, assess, note="no decision")
    complete(kontor, assess, approved=True)  # ${approved} chooses the flow to the PT1S timer
    with kontor.transaction() as session:
        cooling = session.scalar(select(Timer).where(Timer.instance_id == claim))
        assert cooling.spec_name == "Event_cooldown" and cooling.kind == "DurationTimerEventDefinition"
        due = cooling.due_at
    assert due <= datetime.now(timezone.utc) + timedelta(seconds=1)
    time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 0.05)
    assert [t.spec_name for t in fire_due_timers(kontor.sessions, kontor.runtime)] == ["Event_cooldown"]
    pay = open_task(kontor, claim)
    assert (pay.title, pay.assignee, pay.candidate_users) == ("Pay claim", "rita", ["rita"])
    assert pay.follow_up_at == datetime(2026, 12, 24, 10, tzinfo=timezone.utc)
    with kontor.transaction() as session:
        reminder = session.scalar(select(Timer).where(Timer.instance_id == claim))
        assert reminder.spec_name == "Event_payment_reminder" and reminder.kind == "CycleTimerEventDefinition"
        assert abs(reminder.due_at - (due + timedelta(minutes=10))).total_seconds() < 5
    complete(kontor, pay, who=RITA)
    assert instance(kontor, claim).status == "completed"


def test_the_default_flow_of_a_camunda_gateway_is_taken(kontor):
    claim = start(kontor, "test_camunda_claim", adjuster="rita")
    complete(kontor, open_task(kontor, claim), approved=False)
    assert instance(kontor, claim).status == "completed"


# ----------------------------------------------------------------- a message start event
def test_a_message_starts_its_process_and_a_receive_task_correlates_over_the_process_data(kontor):
    first = send(kontor, "test_order_received", data={"order_number": "O-1"})
    second = send(kontor, "test_order_received", data={"order_number": "O-2"})
    assert first.status == second.status == "delivered" and first.instance_id != second.instance_id
    assert instance(kontor, first.instance_id).variables["order_number"] == "O-1"
    assert instance(kontor, first.instance_id).process_key == "test_message_start"
    early = send(kontor, "test_order_paid", data={"order_number": "O-2", "amount": "12.50"})
    assert early.status == "buffered"  # O-2 is still being handled
    complete(kontor, open_task(kontor, second.instance_id))
    assert instance(kontor, second.instance_id).status == "completed"
    assert instance(kontor, second.instance_id).variables["amount"] == "12.50"
    complete(kontor, open_task(kontor, first.instance_id))
    assert instance(kontor, first.instance_id).status == "running"  # O-1 waits for its own payment
    assert send(kontor, "test_order_paid", data={"order_number": "O-1"}).status == "delivered"
    assert instance(kontor, first.instance_id).status == "completed"


def test_a_message_of_kontors_own_records_never_starts_a_model(kontor):
    """Deploy refuses a model starting on `offer_reply`; a model deployed before that check still
    never starts on such a message: the customer's answer is buffered for the record's own process."""
    kontor.runtime.domain_messages.add("test_order_received")
    try:
        reply = send(kontor, "test_order_received", data={"order_number": "O-own"})
    finally:
        kontor.runtime.domain_messages.discard("test_order_received")
    assert (reply.status, reply.instance_id) == ("buffered", None)
    with kontor.transaction() as session:
        started = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "test_message_start"))
        assert "O-own" not in [i.variables.get("order_number") for i in started]
