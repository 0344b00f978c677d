"""Date and cycle timers through the runtime and the real timer flow, on SQLite and PostgreSQL."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from flows.worker import work_once
from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.models import AuditEvent, HumanTask, ProcessInstance, Timer
from runtime.progress import load_workflow

pytestmark = pytest.mark.usefixtures("prefect")


def pending_due_at(kontor, instance_id: int) -> datetime | None:
    with kontor.transaction() as session:
        return session.scalar(select(Timer.due_at).where(Timer.instance_id == instance_id))


def wait_until_due(kontor, instance_id: int) -> None:
    """Sleep until the instance's timer is due (read from its index row, not guessed: a flow run's
    own start-up latency varies with the machine's load)."""
    due_at = pending_due_at(kontor, instance_id)
    assert due_at is not None, "the instance has no pending timer"
    time.sleep(max(0.0, (due_at - datetime.now(timezone.utc)).total_seconds()) + 0.05)


def completed_count(kontor, instance_id: int, spec_name: str) -> int:
    with kontor.transaction() as session:
        workflow, _ = load_workflow(session, kontor.runtime, session.get(ProcessInstance, instance_id))
    return sum(1 for t in workflow.get_tasks() if t.task_spec.name == spec_name and t.state == TaskState.COMPLETED)


def test_date_timer_then_cycle_timer_repeats_without_interrupting(kontor):
    wake_at = datetime.now(timezone.utc) + timedelta(seconds=0.4)
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "test_timer_kinds",
                                     {"wake_at": wake_at.isoformat(), "nudge_cycle": "R2/PT2S"})
        timer = session.scalar(select(Timer).where(Timer.instance_id == instance.id))
        assert timer.spec_name == "Wake_up" and timer.kind == "TimeDateEventDefinition"
        assert abs((timer.due_at - wake_at).total_seconds()) < 0.01
        instance_id = instance.id
    assert work_once(kontor)["timers"] is None  # not due yet: no flow run at all
    wait_until_due(kontor, instance_id)
    assert work_once(kontor)["timers"]["fired"] == 1
    with kontor.transaction() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        assert task.state == "open" and task.candidate_groups == ["sales"]
        assert task.follow_up_at > datetime.now(timezone.utc) + timedelta(minutes=59)
        cycle = session.scalar(select(Timer).where(Timer.instance_id == instance_id))
        assert cycle.spec_name == "Nudge" and cycle.kind == "CycleTimerEventDefinition"
        first_due = cycle.due_at
    # Each repetition is due one period after the previous one was *due*, not fired; a worker that
    # comes later than a whole period catches up on the missed repetition in the same run. So there
    # are one or two runs (it depends on the machine's load), and always two repetitions.
    runs, deadline = 0, time.monotonic() + 60
    while pending_due_at(kontor, instance_id) is not None:
        assert time.monotonic() < deadline, "the cycle timer never finished"
        wait_until_due(kontor, instance_id)
        assert work_once(kontor)["timers"]["fired"] == 1
        runs += 1
        next_due = pending_due_at(kontor, instance_id)
        assert next_due is None or next_due == first_due + timedelta(seconds=2)
    assert runs in (1, 2)
    assert completed_count(kontor, instance_id, "Nudged") == 2
    with kontor.transaction() as session:
        nudges = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                          AuditEvent.kind == "timer_fired",
                                                          AuditEvent.task_spec == "Nudge")).all()
        assert len(nudges) == runs
        assert session.scalar(select(HumanTask.state).where(HumanTask.instance_id == instance_id)) == "open"
        assert session.get(ProcessInstance, instance_id).status == "running"
