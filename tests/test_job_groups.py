"""Outcomes of service jobs recorded together (group commit, runtime.jobs.run_jobs): one transaction
for a group of quick jobs, the same outcomes as one by one when something in the group fails, a
second job of an instance on its own, and slow work never held back. On SQLite and PostgreSQL."""
from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import event, func, select

from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.jobs import claim_jobs, run_jobs
from runtime.models import AuditEvent, ProcessInstance, ServiceJob
from tests.support import start_demo


@pytest.fixture
def echo(kontor):
    """The test processes' operation: gives back its parameters, after `delay` seconds."""
    calls = []

    def operation(params, job):
        calls.append(job.job_id)
        time.sleep(echo.delay)
        return dict(params)

    echo = operation
    echo.delay, echo.calls = 0.0, calls
    kontor.runtime.operations.register("test.echo", operation)
    return echo


@pytest.fixture
def commits(kontor):
    """How many transactions commit while the test runs."""
    counted = []
    listener = lambda _connection: counted.append(1)  # noqa: E731
    event.listen(kontor.engine, "commit", listener)
    yield counted
    event.remove(kontor.engine, "commit", listener)


def start_two_jobs(kontor, divisor: int = 1) -> int:
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "test_two_jobs", {"divisor": divisor})
        return instance.id


def audit_kinds(kontor, instance_id: int) -> list[str]:
    with kontor.transaction() as session:
        return list(session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance_id)
                                    .order_by(AuditEvent.id)))


def job_states(kontor) -> dict[int, str]:
    with kontor.transaction() as session:
        return {job.id: job.state for job in session.scalars(select(ServiceJob))}


def test_the_outcomes_of_quick_jobs_are_recorded_in_one_transaction(kontor, commits):
    ids = [start_demo(kontor, f"G-{n}") for n in range(5)]
    jobs = claim_jobs(kontor.sessions, kontor.runtime, 10)
    before = len(commits)
    outcomes = run_jobs(kontor.sessions, kontor.runtime, jobs)
    assert [o.state for o in outcomes] == ["done"] * 5
    assert [o.job_id for o in outcomes] == [job.id for job in jobs]
    assert len(commits) - before == 1
    for instance_id in ids:
        assert audit_kinds(kontor, instance_id).count("job_completed") == 1
    with kontor.transaction() as session:  # each instance moved on to wait for the supplier's message
        assert session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.id.in_(ids), ProcessInstance.version == 2)) == 5


def test_with_the_group_off_each_outcome_has_its_own_transaction(kontor, commits):
    saved, kontor.settings.job_outcome_group_seconds = kontor.settings.job_outcome_group_seconds, 0
    try:
        [start_demo(kontor, f"S-{n}") for n in range(3)]
        jobs = claim_jobs(kontor.sessions, kontor.runtime, 10)
        before = len(commits)
        assert [o.state for o in run_jobs(kontor.sessions, kontor.runtime, jobs)] == ["done"] * 3
        assert len(commits) - before == 3
    finally:
        kontor.settings.job_outcome_group_seconds = saved


def test_a_process_that_fails_after_its_job_leaves_the_rest_of_the_group_done(kontor, echo, commits):
    good = [start_demo(kontor, f"F-{n}") for n in range(3)]
    failing = start_two_jobs(kontor, divisor=0)
    jobs = claim_jobs(kontor.sessions, kontor.runtime, 10)
    assert len(jobs) == 5
    # the group takes the failing instance's first job (the one the division follows)
    assert min((job.id, job.spec_name) for job in jobs if job.instance_id == failing)[1] == "Task_first"
    outcomes = {o.job_id: o for o in run_jobs(kontor.sessions, kontor.runtime, jobs)}
    states = {job.instance_id: [] for job in jobs}
    for job in jobs:
        states[job.instance_id].append(outcomes[job.id].state)
    assert all(states[instance_id] == ["done"] for instance_id in good)
    assert sorted(states[failing]) == ["done", "retry"]  # the division by zero follows the first job only
    [retry] = [outcomes[job.id] for job in jobs if outcomes[job.id].state == "retry"]
    assert "could not go on" in retry.error and "division by zero" in retry.error
    assert audit_kinds(kontor, failing).count("job_failed") == 1
    assert all(audit_kinds(kontor, instance_id).count("job_completed") == 1 for instance_id in good)
    assert len(commits) >= 6  # the group failed as a whole: its outcomes were recorded one by one


def test_a_second_job_of_an_instance_in_the_group_is_recorded_on_its_own(kontor, echo):
    instance_id = start_two_jobs(kontor, divisor=4)
    jobs = claim_jobs(kontor.sessions, kontor.runtime, 10)
    assert {job.instance_id for job in jobs} == {instance_id} and len(jobs) == 2
    assert [o.state for o in run_jobs(kontor.sessions, kontor.runtime, jobs)] == ["done", "done"]
    with kontor.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "completed" and instance.variables["quotient"] == 25
    assert audit_kinds(kontor, instance_id).count("job_completed") == 2


def test_a_slow_job_does_not_hold_back_the_outcome_of_the_one_before(kontor):
    start_two_jobs(kontor)
    start_two_jobs(kontor)
    jobs = claim_jobs(kontor.sessions, kontor.runtime, 10)
    slow = kontor.settings.job_outcome_group_seconds * 2
    seen_at_start = {}

    def operation(params, job):
        seen_at_start[job.job_id] = job_states(kontor)
        time.sleep(slow)
        return dict(params)

    kontor.runtime.operations.register("test.echo", operation)
    outcomes = run_jobs(kontor.sessions, kontor.runtime, jobs)
    assert [o.state for o in outcomes] == ["done"] * 4
    assert all(o.seconds >= slow for o in outcomes)
    for before, job in itertools.pairwise(jobs):  # each job ran after the one before had been recorded
        assert seen_at_start[job.id][before.id] == "done"


def test_a_job_taken_over_meanwhile_is_lost_and_the_others_of_its_group_are_done(kontor):
    ids = [start_demo(kontor, f"L-{n}") for n in range(3)]
    jobs = claim_jobs(kontor.sessions, kontor.runtime, 10)
    with kontor.transaction() as session:  # another worker's lease ran out and it took the first job over
        session.get(ServiceJob, jobs[0].id).attempts += 1
    outcomes = run_jobs(kontor.sessions, kontor.runtime, jobs)
    assert [o.state for o in outcomes] == ["lost", "done", "done"]
    assert audit_kinds(kontor, jobs[0].instance_id).count("job_completed") == 0
    assert all(audit_kinds(kontor, i).count("job_completed") == 1 for i in ids if i != jobs[0].instance_id)
