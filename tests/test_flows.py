"""The background work as real Prefect flow runs: visible runs and task runs, racing timer workers,
a worker that dies mid-job, and the worker loop itself. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from flows.worker import start_worker_thread, work_once
from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.jobs import claim_jobs, record_success, run_job
from runtime.models import AuditEvent, ServiceJob, Timer
from runtime.timers import fire_due_timers

pytestmark = pytest.mark.usefixtures("prefect")


def start_demo(kontor, **data):
    data.setdefault("amount", 100)
    data.setdefault("request_id", f"R-{time.monotonic_ns()}")
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "demo_request", data)
        return instance.id


def count_audit(kontor, kind, instance_id=None) -> int:
    with kontor.transaction() as session:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind)
        if instance_id is not None:
            query = query.where(AuditEvent.instance_id == instance_id)
        return session.scalar(query)


async def _flow_runs(flow_name: str, since: datetime):
    """Runs of this flow that started since the given moment (the Prefect server lives for the whole session)."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

    async with get_client() as client:
        runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                           flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(
                                               after_=since)),
                                           sort=FlowRunSort.START_TIME_DESC, limit=200)
        result = []
        for run in runs:
            tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                                                sort=TaskRunSort.EXPECTED_START_TIME_DESC, limit=200)
            result.append((run, tasks))
        return result


def flow_run_log_lines(flow_name: str, wanted: list[str], since: datetime, timeout: float = 20) -> list[str]:
    """The log lines of this flow's runs since the given moment; logs reach the server in batches."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async def lines() -> list[str]:
        runs = await _flow_runs(flow_name, since)
        async with get_client() as client:
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(
                any_=[run.id for run, _ in runs])), limit=200, offset=0)
        return [f"{entry.level} {entry.message}" for entry in logs]

    deadline = time.monotonic() + timeout
    while True:
        found = asyncio.run(lines())
        if all(any(w in line for line in found) for w in wanted) or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_service_jobs_run_in_one_flow_run_with_a_log_line_per_job(kontor):
    from domain.demo_operations import budget_office

    since = datetime.now(timezone.utc)
    request = f"R-{time.monotonic_ns()}"
    ok = start_demo(kontor, amount=100, request_id=request)
    budget_office.limit = Decimal("200")
    failing = start_demo(kontor, amount=900)
    summary = work_once(kontor)["jobs"]
    assert summary.pop("records") == [f"request:{request}"]  # the refused one touched nothing
    assert summary == {"claimed": 2, "done": 1, "failed": 1}
    with kontor.transaction() as session:
        jobs = {j.instance_id: j.id for j in session.scalars(select(ServiceJob))}
    wanted = [f"job #{jobs[ok]} demo.reserve_budget attempt 1 (instance {ok}): done",
              f"job #{jobs[failing]} demo.reserve_budget attempt 1 (instance {failing}): retry"]
    lines = flow_run_log_lines("run-service-jobs", wanted, since)
    [done] = [line for line in lines if wanted[0] in line]
    [retry] = [line for line in lines if wanted[1] in line]
    assert done.startswith("20 ") and retry.startswith("30 ")  # INFO and WARNING
    assert "budget" in retry  # the operation's error text
    runs = asyncio.run(_flow_runs("run-service-jobs", since))
    assert len(runs) == 1 and runs[0][0].state.is_completed()
    assert runs[0][0].parameters == {}  # nothing for ops to puzzle over


def test_a_flow_run_is_named_after_its_work_and_tagged_with_the_records_it_touched(kontor):
    since = datetime.now(timezone.utc)
    start_demo(kontor, amount=100, request_id="R-4711")
    assert work_once(kontor)["jobs"]["records"] == ["request:R-4711"]
    [(run, _)] = asyncio.run(_flow_runs("run-service-jobs", since))
    assert run.name == "demo.reserve_budget R-4711"
    assert {"kontor", "request:R-4711", "operation:demo.reserve_budget"} <= set(run.tags)
    two = [start_demo(kontor, amount=100, request_id=f"R-{n}") for n in (1, 2)]
    assert len(two) == 2 and work_once(kontor)["jobs"]["claimed"] == 2
    runs = asyncio.run(_flow_runs("run-service-jobs", since))
    assert runs[0][0].name == "2 jobs: demo.reserve_budget ×2 (R-1, R-2)"
    assert {"request:R-1", "request:R-2"} <= set(runs[0][0].tags)


def test_run_names_stay_short_and_tags_come_once():
    from flows.run_labels import MAX_NAME, MAX_TAGS, summary_name, tags_of

    assert summary_name("mails", ["offer_sent"], ["offer:OFF-2026-0001"]) == "offer_sent OFF-2026-0001"
    assert summary_name("timers", ["remind", "remind", "expire"], []) == "3 timers: remind ×2, expire"
    many = [f"offer:OFF-2026-{n:04d}" for n in range(200)]
    assert len(summary_name("jobs", ["offers.send"] * 200, many)) == MAX_NAME
    assert tags_of(["offer:A", "offer:A"], "operation:x", "") == ["kontor", "offer:A", "operation:x"]
    assert len(tags_of(many)) == MAX_TAGS


def test_timers_fire_as_flow_run_with_their_lag_logged(kontor):
    since = datetime.now(timezone.utc)
    instance_id = start_demo(kontor, amount=5000, reminder_after="PT0.2S")
    time.sleep(0.3)
    result = work_once(kontor)["timers"]
    assert result["fired"] == 1 and 0 <= result["max_lag_seconds"] < 5
    runs = asyncio.run(_flow_runs("fire-due-timers", since))
    assert any(run.state.is_completed() for run, _ in runs)
    assert count_audit(kontor, "timer_fired", instance_id) == 1


class TakingTurns:
    """Two timer workers made to contest every timer, with the outcome of each contest fixed: the
    winner of timer i (worker i % 2) holds its fired, uncommitted transaction until the other worker
    has tried the same timer (on PostgreSQL: its claim ran and skipped the locked row; on SQLite: it
    issued BEGIN IMMEDIATE and waits for the writer). No sleeps; a worker that never gets there fails
    the test instead of hanging it."""
    TIMEOUT = 20

    def __init__(self, kontor, timers: int):
        self.kontor = kontor
        self.sqlite = kontor.engine.dialect.name == "sqlite"
        self.read_ids = threading.Barrier(2, timeout=self.TIMEOUT)
        self.held = [threading.Event() for _ in range(timers)]
        self.tried = [threading.Event() for _ in range(timers)]
        self.local = threading.local()

    def __enter__(self):
        event.listen(self.kontor.engine, "before_cursor_execute", self._before)
        event.listen(self.kontor.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_):
        event.remove(self.kontor.engine, "before_cursor_execute", self._before)
        event.remove(self.kontor.engine, "after_cursor_execute", self._after)

    def _signal(self):
        trying = getattr(self.local, "trying", None)
        if trying is not None:
            self.local.trying = None
            self.tried[trying].set()

    def _before(self, conn, cursor, statement, *_):
        if self.sqlite and statement.startswith("BEGIN"):
            self._signal()

    def _after(self, conn, cursor, statement, *_):
        if not self.sqlite:
            self._signal()

    def factory(self, worker: int):
        """Worker's sessionmaker: its transaction n is the read of due ids (n = 0) or timer n - 1."""
        count = iter(range(10**6))

        def new_session():
            n = next(count)
            session = self.kontor.sessions()
            if n == 0 or n > len(self.held):
                return session
            if n == 1:
                self.read_ids.wait()  # both know every due timer before either fires one
            timer = n - 1
            if timer % 2 == worker:  # this worker wins this timer: commit only once the other tried it
                def hold(_session):
                    self.held[timer].set()
                    if not self.tried[timer].wait(self.TIMEOUT):
                        raise AssertionError(f"worker {1 - worker} never tried timer {timer} while it was held")
                event.listen(session, "before_commit", hold)
            else:
                if not self.held[timer].wait(self.TIMEOUT):
                    raise AssertionError(f"worker {1 - worker} never held timer {timer}")
                self.local.trying = timer
            return session
        return new_session


def test_two_workers_racing_fire_each_timer_once(kontor):
    ids = [start_demo(kontor, amount=5000, reminder_after="PT0.3S") for _ in range(8)]
    with kontor.transaction() as session:
        due = {t.instance_id: t.due_at for t in session.scalars(
            select(Timer).where(Timer.spec_name == "Boundary_review_reminder"))}
    wait = (max(due.values()) - datetime.now(timezone.utc)).total_seconds()
    time.sleep(max(0.0, wait) + 0.05)  # every reminder due (not a race set-up: the contests are driven below)
    with TakingTurns(kontor, len(ids)) as turns, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda worker: fire_due_timers(turns.factory(worker), kontor.runtime, limit=100),
                                range(2)))
    assert all(tried.is_set() for tried in turns.tried)  # every timer was contested
    fired = [sorted(f.instance_id for f in result) for result in results]
    assert [len(f) for f in fired] == [4, 4], fired  # both workers worked: each won its four contests
    assert sorted(fired[0] + fired[1]) == sorted(ids)
    assert all(count_audit(kontor, "timer_fired", i) == 1 for i in ids)
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Timer).where(
            Timer.spec_name == "Boundary_review_reminder")) == 0


def test_worker_that_dies_mid_job_leaves_it_runnable_and_the_effect_happens_once(kontor):
    import logging

    from domain.demo_operations import budget_office
    from runtime.jobs import _operate

    instance_id = start_demo(kontor, amount=100)
    lease = kontor.settings.job_lease_seconds
    kontor.settings.job_lease_seconds = 1.0
    try:
        dead = claim_jobs(kontor.sessions, kontor.runtime, 10)  # claimed by a worker that then dies
        assert len(dead) == 1
        # the worker runs the operation (the budget is reserved), then dies before it records the outcome
        first, failure = _operate(kontor.runtime, dead[0], logging.getLogger("dead-worker"))
        assert failure is None and len(budget_office.reservations) == 1
        assert claim_jobs(kontor.sessions, kontor.runtime, 10) == []  # leased: nobody else takes it yet
        time.sleep(1.1)
        again = claim_jobs(kontor.sessions, kontor.runtime, 10)
        assert [j.id for j in again] == [dead[0].id] and again[0].attempt == 2
        assert run_job(kontor.sessions, kontor.runtime, again[0]).state == "done"  # runs the operation again
        # the dead worker wakes up late and reports: no second effect
        late = record_success(kontor.sessions, kontor.runtime, dead[0], first)
        assert late.state == "lost"
    finally:
        kontor.settings.job_lease_seconds = lease
    assert list(budget_office.reservations.values()) == [first]  # the operation ran twice, its effect once
    assert count_audit(kontor, "job_completed", instance_id) == 1
    with kontor.transaction() as session:
        job = session.scalar(select(ServiceJob).where(ServiceJob.instance_id == instance_id))
        assert (job.state, job.attempts) == ("done", 2)


def test_worker_thread_runs_jobs_and_timers_until_stopped(kontor):
    thread, stop = start_worker_thread(kontor)
    try:
        instance_id = start_demo(kontor, amount=5000, reminder_after="PT0.2S")
        other = start_demo(kontor, amount=100)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if count_audit(kontor, "timer_fired", instance_id) and count_audit(kontor, "job_completed", other):
                break
            time.sleep(0.1)
        assert count_audit(kontor, "timer_fired", instance_id) == 1
        assert count_audit(kontor, "job_completed", other) == 1
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
