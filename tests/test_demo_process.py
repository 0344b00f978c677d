"""The demonstration process driven through the API from start to end, on SQLite and PostgreSQL,
with real Prefect flow runs executing service jobs and timers."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from flows.worker import work_once

pytestmark = pytest.mark.usefixtures("prefect")


def run_worker_round(kontor):
    return work_once(kontor)


def sleep_until(due_at: str) -> None:
    remaining = (datetime.fromisoformat(due_at) - datetime.now(timezone.utc)).total_seconds()
    time.sleep(max(0.0, remaining) + 0.05)


def wait_until(predicate, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def test_small_request_runs_without_review_to_the_end(api, kontor):
    started = api.start_demo(amount=250, request_id="R-small")
    assert started["status"] == "running"
    assert started["tasks"] == []
    assert [j["operation"] for j in started["jobs"]] == ["demo.reserve_budget"]

    did = run_worker_round(kontor)
    assert did["jobs"] == {"claimed": 1, "done": 1, "failed": 0, "records": ["request:R-small"]}
    waiting = api.instance(started["id"])
    assert waiting["messages"] == [{"name": "demo_supplier_confirmation", "element": "Event_confirmation",
                                    "correlation": {"request_id": "R-small"}}]
    assert waiting["variables"]["reservation"]["amount"] == "250"

    reply = api.post("/messages", {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-small"},
                                   "message_id": "m-1", "data": {"confirmed_by": "ACME"}}, user="ivan")
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "delivered" and reply.json()["instance_id"] == started["id"]
    done = api.instance(started["id"])
    assert done["status"] == "completed"
    assert done["variables"]["confirmed_by"] == "ACME"
    kinds = [event["kind"] for event in done["audit"]]
    assert kinds[0] == "instance_started"
    assert {"job_completed", "message_correlated", "instance_completed"} <= set(kinds)


def test_review_approved_by_a_reviewer(api, kontor):
    started = api.start_demo(amount=5000, request_id="R-review")
    task = started["tasks"][0]
    assert task["name"] == "Task_review" and task["candidate_groups"] == ["reviewer"]
    assert task["due_at"] is not None and task["lane"] == "Reviewer"

    detail = api.get(f"/tasks/{task['id']}", user="rolf").json()
    assert detail["form_schema"]["required"] == ["approved"]

    assert api.post(f"/tasks/{task['id']}/claim", user="sam").status_code == 404  # not a reviewer: not visible
    assert api.post(f"/tasks/{task['id']}/claim", user="rolf").json()["assignee"] == "rolf"
    assert api.post(f"/tasks/{task['id']}/complete", {"data": {"approved": True}}, user="rita").status_code == 403
    completed = api.post(f"/tasks/{task['id']}/complete", {"data": {"approved": True, "comment": "ok"}}, user="rolf")
    assert completed.status_code == 200, completed.text
    assert completed.json()["state"] == "completed" and completed.json()["completed_by"] == "rolf"
    instance = api.instance(started["id"])
    assert instance["variables"]["approved"] is True
    assert [j["state"] for j in instance["jobs"]] == ["ready"]
    audit = [e for e in instance["audit"] if e["kind"] == "task_completed"]
    assert audit[0]["actor"] == "rolf" and audit[0]["task_spec"] == "Task_review"


def test_review_rejected_ends_the_request(api):
    started = api.start_demo(amount=20000)
    task = started["tasks"][0]
    assert task["priority"] == 80  # the DMN table said 'manager'
    response = api.post(f"/tasks/{task['id']}/complete", {"data": {"approved": False}}, user="rita")
    assert response.status_code == 200
    instance = api.instance(started["id"])
    assert instance["status"] == "completed" and instance["jobs"] == []


def test_form_data_is_validated_against_the_json_schema(api):
    task = api.start_demo()["tasks"][0]
    response = api.post(f"/tasks/{task['id']}/complete", {"data": {"approved": "yes", "colour": "red"}}, user="rita")
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    fields = {d["field"] for d in body["details"]}
    assert "approved" in fields and "(form)" in fields  # wrong type, and the unknown field
    missing = api.post(f"/tasks/{task['id']}/complete", {"data": {}}, user="rita").json()["error"]["details"]
    assert missing == [{"field": "approved", "message": "'approved' is a required property"}]


def test_two_reviewers_completing_at_once_one_wins_the_other_gets_409(api, kontor):
    task = api.start_demo()["tasks"][0]
    barrier = threading.Barrier(2)
    results = {}

    def complete(user, approved):
        barrier.wait()
        results[user] = api.post(f"/tasks/{task['id']}/complete", {"data": {"approved": approved}}, user=user)

    api.token("rita"), api.token("rolf")
    threads = [threading.Thread(target=complete, args=("rita", True)),
               threading.Thread(target=complete, args=("rolf", False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {u: r.text for u, r in results.items()}
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json()["error"]["code"] == "conflict"
    instance = api.instance(task["instance_id"])
    completions = [e for e in instance["audit"] if e["kind"] == "task_completed"]
    assert len(completions) == 1


def test_message_that_arrives_early_is_buffered_and_delivered_later(api, kontor):
    early = api.post("/messages", {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-early"},
                                   "message_id": "early-1", "data": {"confirmed_by": "early bird"}}, user="ivan")
    assert early.status_code == 202 and early.json()["status"] == "buffered"
    started = api.start_demo(amount=100, request_id="R-early")
    run_worker_round(kontor)  # reserves budget; the instance reaches the catch event and takes the buffered message
    instance = api.instance(started["id"])
    assert instance["status"] == "completed"
    assert instance["variables"]["confirmed_by"] == "early bird"
    again = api.post("/messages", {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-early"},
                                   "message_id": "early-1", "data": {"confirmed_by": "second"}}, user="ivan")
    assert again.json()["duplicate"] is True and again.json()["instance_id"] == started["id"]


def test_expired_buffered_message_is_not_delivered(api, kontor):
    from sqlalchemy import select

    from kernel.principal import Principal
    from runtime.clients import stored_message_id
    from runtime.messages import expire_buffered_messages
    from runtime.models import Message

    posted = api.post("/messages", {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-late"},
                                    "message_id": "short-lived", "ttl_seconds": 0}, user="ivan")
    assert posted.status_code == 202, posted.text
    answer = posted.json()
    assert (answer["message_id"], answer["status"], answer["instance_id"], answer["duplicate"]) == \
        ("short-lived", "buffered", None, False)
    assert datetime.fromisoformat(answer["expires_at"]) <= datetime.now(timezone.utc)
    started = api.start_demo(amount=100, request_id="R-late")
    run_worker_round(kontor)  # reserves budget; the instance reaches the catch event
    instance = api.instance(started["id"])
    assert instance["status"] == "running"  # the stored message was not taken
    assert [m["correlation"] for m in instance["messages"]] == [{"request_id": "R-late"}]
    assert "message_correlated" not in [e["kind"] for e in instance["audit"]]
    with kontor.transaction() as session:
        assert expire_buffered_messages(session) == 1
    with kontor.transaction() as session:
        kept_as = stored_message_id(Principal("ivan", frozenset({"integration"})), "short-lived")
        stored = session.scalar(select(Message).where(Message.message_id == kept_as))
        assert (stored.status, stored.instance_id) == ("expired", None)


def test_repeated_message_id_has_no_second_effect(api, kontor):
    first = api.start_demo(amount=100, request_id="R-dup")
    second = api.start_demo(amount=100, request_id="R-dup-2")
    run_worker_round(kontor)
    body = {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-dup"}, "message_id": "dup-1"}
    assert api.post("/messages", body, user="ivan").json()["status"] == "delivered"
    replay = api.post("/messages", body, user="ivan").json()
    assert replay["duplicate"] is True
    assert api.instance(second["id"])["status"] == "running"
    correlated = [e for e in api.instance(first["id"])["audit"] if e["kind"] == "message_correlated"]
    assert len(correlated) == 1


def test_message_matching_two_instances_is_refused_naming_both(api, kontor):
    a = api.start_demo(amount=100, request_id="R-same")
    b = api.start_demo(amount=100, request_id="R-same")
    run_worker_round(kontor)
    response = api.post("/messages", {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-same"}},
                        user="ivan")
    assert response.status_code == 409
    assert response.json()["error"]["candidates"] == sorted([a["id"], b["id"]])
    assert api.instance(a["id"])["status"] == api.instance(b["id"])["status"] == "running"


def test_failing_service_task_becomes_incident_and_ops_retry_after_a_fix(api, kontor):
    from domain.demo_operations import budget_office

    budget_office.limit = Decimal("100")
    started = api.start_demo(amount=500, request_id="R-incident")
    for _ in range(3):  # three attempts with (short) backoff in between
        wait_until(lambda: run_worker_round(kontor)["jobs"], timeout=5)
    job = api.instance(started["id"])["jobs"][0]
    assert job["state"] == "incident" and job["attempts"] == 3
    assert "exceeds the budget limit" in job["last_error"]
    incidents = api.get("/incidents", user="olga").json()
    assert incidents["total"] == 1 and incidents["items"][0]["instance_id"] == started["id"]
    assert api.get("/incidents", user="sam").status_code == 403
    assert api.post(f"/incidents/{incidents['items'][0]['id']}/retry", user="sam").status_code == 403

    budget_office.limit = Decimal("1000")  # the fix
    retried = api.post(f"/incidents/{incidents['items'][0]['id']}/retry", user="olga")
    assert retried.status_code == 200 and retried.json()["resolved_by"] == "olga"
    assert api.post(f"/incidents/{incidents['items'][0]['id']}/retry", user="olga").status_code == 409
    assert run_worker_round(kontor)["jobs"]["done"] == 1
    instance = api.instance(started["id"])
    assert instance["jobs"][0]["state"] == "done" and instance["messages"]
    kinds = [e["kind"] for e in instance["audit"]]
    assert kinds.count("job_failed") == 3 and "incident_opened" in kinds and "incident_retried" in kinds


def test_boundary_timers_remind_without_interrupting_then_expire_the_review(api, kontor):
    # The reminder and the expiry lie far enough apart that a slow flow-run start cannot fire both
    # in one round; each wait reads the due time from the instance instead of guessing it.
    started = api.start_demo(amount=5000, reminder_after="PT0.3S", review_timeout="PT5S")
    timers = {t["element"]: t["due_at"] for t in api.instance(started["id"])["timers"]}
    assert set(timers) == {"Boundary_review_reminder", "Boundary_review_overdue"}
    sleep_until(timers["Boundary_review_reminder"])
    assert run_worker_round(kontor)["timers"]["fired"] == 1
    after_reminder = api.instance(started["id"])
    assert len(after_reminder["tasks"]) == 1  # non-interrupting: the review is still open
    assert {t["element"] for t in after_reminder["timers"]} == {"Boundary_review_overdue"}
    sleep_until(timers["Boundary_review_overdue"])
    wait_until(lambda: run_worker_round(kontor)["timers"], timeout=5)
    expired = api.instance(started["id"])
    assert expired["status"] == "completed" and expired["tasks"] == []
    fired = [e for e in expired["audit"] if e["kind"] == "timer_fired"]
    assert [e["task_spec"] for e in fired] == ["Boundary_review_reminder", "Boundary_review_overdue"]
    task_state = api.get("/tasks", params={"state": "cancelled", "instance_id": started["id"]}).json()
    assert task_state["total"] == 1


def test_intermediate_timer_waits_before_the_end(api, kontor):
    started = api.start_demo(amount=100, request_id="R-cool", cooling_off="PT0.5S")
    run_worker_round(kontor)
    api.post("/messages", {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-cool"}},
             user="ivan")
    waiting = api.instance(started["id"])
    assert waiting["status"] == "running" and waiting["timers"][0]["element"] == "Event_cooling_off"
    time.sleep(0.6)
    run_worker_round(kontor)
    assert api.instance(started["id"])["status"] == "completed"


def test_business_key_starts_once(api):
    first = api.post("/process-instances", {"process": "demo_request", "business_key": "PR-4711",
                                            "data": {"amount": 10, "request_id": "x"}}, user="sam")
    second = api.post("/process-instances", {"process": "demo_request", "business_key": "PR-4711",
                                             "data": {"amount": 99999, "request_id": "y"}}, user="sam")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    listed = api.get("/process-instances", params={"business_key": "PR-4711"}).json()
    assert listed["total"] == 1


def test_suspend_resume_cancel_by_ops_only(api, kontor):
    started = api.start_demo()
    task = started["tasks"][0]
    assert api.post(f"/process-instances/{started['id']}/suspend", user="sam").status_code == 403
    assert api.post(f"/process-instances/{started['id']}/suspend", user="olga").json()["status"] == "suspended"
    blocked = api.post(f"/tasks/{task['id']}/complete", {"data": {"approved": True}}, user="rita")
    assert blocked.status_code == 409
    assert api.post(f"/process-instances/{started['id']}/resume", user="olga").json()["status"] == "running"
    cancelled = api.post(f"/process-instances/{started['id']}/cancel", {"reason": "duplicate"}, user="olga").json()
    assert cancelled["status"] == "cancelled" and cancelled["tasks"] == [] and cancelled["timers"] == []
    assert api.post(f"/process-instances/{started['id']}/cancel", user="olga").status_code == 409
    assert [e["details"].get("reason") for e in cancelled["audit"] if e["kind"] == "instance_cancelled"] == \
        ["duplicate"]


def test_message_for_a_suspended_instance_waits_until_resume(api, kontor):
    started = api.start_demo(amount=100, request_id="R-susp")
    run_worker_round(kontor)
    api.post(f"/process-instances/{started['id']}/suspend", user="olga")
    response = api.post("/messages", {"name": "demo_supplier_confirmation", "correlation": {"request_id": "R-susp"}},
                        user="ivan")
    assert response.json()["status"] == "buffered"
    assert api.post(f"/process-instances/{started['id']}/resume", user="olga").json()["status"] == "completed"


def test_inbox_filters_and_sorting(api):
    low = api.start_demo(amount=5000)["tasks"][0]
    high = api.start_demo(amount=50000)["tasks"][0]
    inbox = api.get("/tasks", user="rita").json()
    assert [t["id"] for t in inbox["items"]] == [high["id"], low["id"]]  # priority first
    assert api.get("/tasks", user="sam").json()["total"] == 0  # not a reviewer
    assert api.get("/tasks", params={"priority_min": 60}, user="rita").json()["total"] == 1
    assert api.get("/tasks", params={"due_before": "2000-01-01T00:00:00Z"}, user="rita").json()["total"] == 0
    api.post(f"/tasks/{low['id']}/claim", user="rita")
    assert [t["id"] for t in api.get("/tasks", params={"scope": "mine"}, user="rita").json()["items"]] == [low["id"]]
    assert [t["id"] for t in api.get("/tasks", params={"scope": "groups"}, user="rolf").json()["items"]] == \
        [high["id"]]
    assert api.get(f"/tasks/{low['id']}", user="sam").status_code == 404
    by_due = api.get("/tasks", params={"sort": "due_at"}, user="olga").json()["items"]
    assert [t["id"] for t in by_due] == [low["id"], high["id"]]
    delegated = api.post(f"/tasks/{low['id']}/delegate", {"assignee": "rolf"}, user="rita").json()
    assert delegated["assignee"] == "rolf"
    assert api.post(f"/tasks/{low['id']}/unclaim", user="rita").status_code == 403
    assert api.post(f"/tasks/{low['id']}/unclaim", user="rolf").json()["assignee"] is None


def test_idempotency_key_replays_the_first_answer(api):
    headers = {"Idempotency-Key": "start-once-1"}
    body = {"process": "demo_request", "data": {"amount": 10, "request_id": "idem"}}
    first = api.post("/process-instances", body, user="sam", headers=headers)
    second = api.post("/process-instances", body, user="sam", headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert api.get("/process-instances", params={"process": "demo_request"}).json()["total"] == 1
    other = api.post("/process-instances", {**body, "data": {"amount": 11}}, user="sam", headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
