"""Service jobs: a ready service task becomes a job; a worker claims it (with a lease), runs the
named operation outside any transaction, and reports the outcome in one transaction. Failures
retry with exponential backoff; after the last attempt the job becomes an incident that ops
retry by hand after a fix. A worker that dies mid-job leaves its claims behind: they are free
once the worker is known to be gone (started again, stopped, or silent: runtime.workers), or
when their lease runs out, and the jobs are claimed again: never lost (operations get a stable
job key to make their effect idempotent; an outcome is recorded once, by its attempt).

The outcomes of quick jobs that finish one after another are recorded together, in one
transaction (group commit: one BEGIN, one read of all their rows, one COMMIT instead of one
each). Should anything of such a group fail, nothing of it is kept and each outcome is recorded
on its own, exactly as a single job's would be: grouping never changes an outcome."""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kernel.principal import SYSTEM, Principal
from kernel.db import transaction
from kernel.clock import utcnow
from kernel.driver_sql import DriverStatement
from kernel.transient import once_more_if_disconnected
from runtime.engine import ProcessError
from kernel.errors import Conflict, NotFound
from runtime.models import Incident, ProcessInstance, ServiceJob
from runtime.progress import audit, audit_event, jsonable, load_workflow, save_progress, settled
from runtime.runtime import JobContext, ProcessRuntime
from runtime.store import attach, core, pipelined
from runtime.workers import CLAIMANT, claimable_again, current_claimant

_JOB, _INSTANCE = ServiceJob.__table__, ProcessInstance.__table__
_JOB_AND_INSTANCE = DriverStatement(
    select(_JOB.c.state, _JOB.c.attempts, _JOB.c.task_id, _JOB.c.spec_name, _JOB.c.operation,
           *[column.label(f"instance_{column.key}") for column in _INSTANCE.columns])
    .join(_INSTANCE, _INSTANCE.c.id == _JOB.c.instance_id).where(_JOB.c.id == bindparam("row_id")).with_for_update())
_UPDATE_JOB = DriverStatement(update(_JOB).where(_JOB.c.id == bindparam("row_id")))


@dataclass
class ClaimedJob:
    id: int
    instance_id: int
    operation: str
    params: dict
    attempt: int
    spec_name: str


@dataclass
class JobOutcome:
    job_id: int
    operation: str
    state: str  # done | retry | incident | cancelled | lost
    error: str | None = None
    seconds: float = 0.0  # how long the operation ran


def _claimable(now, claimant: str | None = None):
    """Ready and due, or running with a lease that ran out or a worker that is gone (runtime.workers)."""
    return and_(_INSTANCE.c.status == "running", or_(
        and_(_JOB.c.state == "ready", _JOB.c.next_attempt_at <= now),
        and_(_JOB.c.state == "running",
             or_(_JOB.c.locked_until < now, claimable_again(_JOB.c.claimed_by, now, claimant)))))


def has_ready_jobs(session: Session) -> bool:
    now = utcnow()
    return session.scalar(select(_JOB.c.id).join(_INSTANCE, _INSTANCE.c.id == _JOB.c.instance_id)
                          .where(_claimable(now, current_claimant())).limit(1)) is not None


def claim_jobs(factory: sessionmaker, runtime: ProcessRuntime, limit: int,
               claimed_by: str | None = CLAIMANT) -> list[ClaimedJob]:
    """Up to `limit` jobs become `running`, leased, and named as this worker's claims (by default
    the worker present in this process, if any)."""
    now = utcnow()
    claimed_by = current_claimant() if claimed_by is CLAIMANT else claimed_by
    lease = timedelta(seconds=runtime.settings.job_lease_seconds)
    with transaction(factory) as session:
        rows = core(session).execute(
            select(_JOB.c.id, _JOB.c.instance_id, _JOB.c.operation, _JOB.c.params, _JOB.c.attempts, _JOB.c.spec_name)
            .join(_INSTANCE, _INSTANCE.c.id == _JOB.c.instance_id)
            .where(_claimable(now, claimed_by)).order_by(_JOB.c.next_attempt_at, _JOB.c.id).limit(limit)
            .with_for_update(skip_locked=True, of=_JOB)).all()
        if rows:
            core(session).execute(update(_JOB).where(_JOB.c.id.in_([row.id for row in rows]))
                                  .values(state="running", attempts=_JOB.c.attempts + 1, locked_until=now + lease,
                                          claimed_by=claimed_by))
        return [ClaimedJob(row.id, row.instance_id, row.operation, dict(row.params or {}), row.attempts + 1,
                           row.spec_name) for row in rows]


def run_job(factory: sessionmaker, runtime: ProcessRuntime, job: ClaimedJob,
            log: logging.Logger | logging.LoggerAdapter | None = None) -> JobOutcome:
    """Run a claimed job's operation, then record its outcome. Raises nothing for operation errors."""
    return run_jobs(factory, runtime, [job], log)[0]


def run_jobs(factory: sessionmaker, runtime: ProcessRuntime, jobs: list[ClaimedJob],
             log: logging.Logger | logging.LoggerAdapter | None = None) -> list[JobOutcome]:
    """Run claimed jobs' operations one after another; their outcomes, in the order of `jobs`. A
    failure is recorded at once. Successes wait to be recorded together while the operations are
    quick: before the next operation runs, those waiting are recorded if the oldest of them has
    waited, or the last operation took, `job_outcome_group_seconds` or more (so the outcome of slow
    work, a PDF say, is never held back behind the next one), and after the last job."""
    log = log or logging.getLogger("kontor.jobs")
    try:
        return _run_jobs(factory, runtime, jobs, log)
    except BaseException:  # the database went away mid-batch, say: what is unfinished is free at once
        try:
            release_jobs(factory, jobs)
        except Exception as exc:  # noqa: BLE001 - then they wait until this worker is known to be gone
            log.warning("the unfinished jobs of a broken batch could not be released: %s", exc)
        raise


def release_jobs(factory: sessionmaker, jobs: list[ClaimedJob]) -> None:
    """Claimed jobs still running under their attempt (no outcome recorded): free for any worker now."""
    if not jobs:
        return
    with transaction(factory) as session:
        for job in jobs:
            core(session).execute(update(_JOB).where(
                _JOB.c.id == job.id, _JOB.c.state == "running", _JOB.c.attempts == job.attempt)
                .values(locked_until=utcnow() - timedelta(seconds=1)))


def _run_jobs(factory, runtime, jobs: list[ClaimedJob], log) -> list[JobOutcome]:
    bound = runtime.settings.job_outcome_group_seconds
    outcomes: dict[int, JobOutcome] = {}
    waiting: list[tuple[ClaimedJob, Any, float]] = []  # succeeded, not yet recorded: (job, result, seconds)
    since = took = 0.0
    for job in jobs:
        if waiting and time.monotonic() - since + took >= bound:
            outcomes.update(record_outcomes(factory, runtime, waiting, log))
            waiting = []
        started = time.monotonic()
        result, failure = _operate(runtime, job, log)
        took = time.monotonic() - started
        if failure is not None:
            outcomes[job.id] = _with_seconds(record_failure(factory, runtime, job, *failure), took)
            continue
        if not waiting:
            since = time.monotonic()
        waiting.append((job, result, took))
    if waiting:
        outcomes.update(record_outcomes(factory, runtime, waiting, log))
    return [outcomes[job.id] for job in jobs]


def _operate(runtime: ProcessRuntime, job: ClaimedJob, log) -> tuple[Any, tuple[str, str] | None]:
    """The operation's result as JSON data, or (error, traceback) if it failed in any way."""
    context = JobContext(job.id, f"job-{job.id}", job.instance_id, job.attempt, log)
    try:
        operation = runtime.operations.get(job.operation)
        return jsonable(operation(job.params, context)), None
    except Exception as exc:  # an operation may fail in any way; the job records it
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job %s (%s) attempt %s failed: %s", job.id, job.operation, job.attempt, error)
        return None, (error, traceback.format_exc())


def _with_seconds(outcome: JobOutcome, seconds: float) -> JobOutcome:
    outcome.seconds = seconds
    return outcome


def record_outcomes(factory, runtime, succeeded: list[tuple[ClaimedJob, Any, float]], log) -> dict[int, JobOutcome]:
    """Record the outcomes of jobs whose operations succeeded: together in one transaction, or,
    should that fail in any way (nothing of it is then kept), each on its own."""
    outcomes: dict[int, JobOutcome] = {}
    alone = succeeded
    if len(succeeded) > 1:
        try:
            outcomes, alone = _record_together(factory, runtime, succeeded)
        except Exception as exc:  # noqa: BLE001 - each outcome is recorded on its own below, errors and all
            log.info("recording %s job outcomes together failed (%s: %s); recording each on its own",
                     len(succeeded), type(exc).__name__, exc)
            outcomes, alone = {}, succeeded
    for job, result, seconds in alone:
        outcomes[job.id] = _with_seconds(_record_alone(factory, runtime, job, result, log), seconds)
    return outcomes


def _record_alone(factory, runtime, job: ClaimedJob, result, log) -> JobOutcome:
    try:
        # the operation has run: a dropped connection means its outcome is recorded again, not the work
        return once_more_if_disconnected(lambda: record_success(factory, runtime, job, result), log,
                                         f"the outcome of job {job.id}")
    except ProcessError as exc:
        error = f"the process could not go on after {job.operation}: {exc}"
        log.warning("job %s: %s", job.id, error)
        return record_failure(factory, runtime, job, error, traceback.format_exc())


def _record_together(factory, runtime, succeeded) -> tuple[dict[int, JobOutcome], list]:
    """One transaction for the outcomes of jobs of different instances: their rows are read and
    locked first, all in one round trip and in the order of their instances (two groups never
    wait for each other in a circle). A second job of an instance already in the group is left to
    be recorded on its own afterwards (its instance's row changes within the group)."""
    group, later, instances = [], [], set()
    for entry in sorted(succeeded, key=lambda entry: (entry[0].instance_id, entry[0].id)):
        (later if entry[0].instance_id in instances else group).append(entry)
        instances.add(entry[0].instance_id)
    outcomes = {}
    with transaction(factory) as session:
        with pipelined(session) as connection:
            found = [_JOB_AND_INSTANCE.execute(connection, {"row_id": job.id}) for job, _, _ in group]
        for (job, result, seconds), rows in zip(group, found):
            outcomes[job.id] = _with_seconds(_complete(session, runtime, job, rows.first(), result), seconds)
    return outcomes, later


def record_success(factory, runtime, job: ClaimedJob, result) -> JobOutcome:
    with transaction(factory) as session:
        with pipelined(session) as connection:  # (the transaction's BEGIN goes with the read)
            found = _JOB_AND_INSTANCE.execute(connection, {"row_id": job.id})
        return _complete(session, runtime, job, found.first(), result)


def _complete(session, runtime, job: ClaimedJob, row: dict | None, result) -> JobOutcome:
    """The service task of a job whose row (with its instance's, both locked) was read in this
    transaction completes with the operation's result, and the instance moves on."""
    # a job taken over meanwhile has another attempt count
    if row is None or row["state"] != "running" or row["attempts"] != job.attempt:
        return JobOutcome(job.id, job.operation, "lost", "the job was taken over or cancelled meanwhile")
    instance = attach(session, {column.key: row[f"instance_{column.key}"] for column in _INSTANCE.columns})
    workflow, spec = load_workflow(session, runtime, instance)
    finished = utcnow()
    try:
        runtime.engine.complete_service_task(workflow, row["task_id"], result)
    except KeyError:
        _finish(session, job.id, state="cancelled", finished_at=finished)
        return JobOutcome(job.id, job.operation, "cancelled", "the service task no longer waits")
    settled(session, instance.id, row["task_id"])
    save_progress(session, runtime, instance, workflow, spec, SYSTEM.username, events=[
        audit_event(instance.id, "job_completed", SYSTEM.username, row["spec_name"], job=job.id,
                    operation=row["operation"], attempt=row["attempts"])], writes=[
        (_UPDATE_JOB, {"state": "done", "finished_at": finished, "locked_until": None, "last_error": None,
                       "row_id": job.id})])
    return JobOutcome(job.id, job.operation, "done")


def _finish(session, job_id: int, **values) -> None:
    _UPDATE_JOB.execute(core(session), {**values, "row_id": job_id})


def record_failure(factory, runtime, job: ClaimedJob, error: str, trace: str | None = None) -> JobOutcome:
    with transaction(factory) as session:
        row = session.scalar(select(ServiceJob).where(ServiceJob.id == job.id).with_for_update())
        if row is None or row.state != "running" or row.attempts != job.attempt:
            return JobOutcome(job.id, job.operation, "lost", error)
        row.last_error = error if trace is None else f"{error}\n\n{trace[-4000:]}"
        row.locked_until = None
        audit(session, row.instance_id, "job_failed", SYSTEM.username, row.spec_name, job=row.id,
              operation=row.operation, attempt=row.attempts, error=error)
        if row.attempts >= row.max_attempts:
            row.state = "incident"
            session.add(Incident(job_id=row.id, instance_id=row.instance_id, operation=row.operation, error=error,
                                 attempts=row.attempts))
            audit(session, row.instance_id, "incident_opened", SYSTEM.username, row.spec_name, job=row.id,
                  error=error, attempts=row.attempts)
            return JobOutcome(job.id, job.operation, "incident", error)
        delay = min(row.backoff_base * (2 ** (row.attempts - 1)), runtime.settings.job_backoff_max_seconds)
        row.state = "ready"
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        return JobOutcome(job.id, job.operation, "retry", error)


def retry_incident(session: Session, incident_id: int, who: Principal) -> Incident:
    """After a fix: the job gets a fresh set of attempts, due now."""
    incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    if incident.resolved_at is not None:
        raise Conflict(f"incident {incident_id} was retried already by {incident.resolved_by}")
    job = session.get(ServiceJob, incident.job_id)
    if job.state != "incident":
        raise Conflict(f"the job of incident {incident_id} is {job.state}")
    job.state, job.attempts, job.next_attempt_at, job.locked_until = "ready", 0, utcnow(), None
    incident.resolved_at, incident.resolved_by = utcnow(), who.username
    audit(session, incident.instance_id, "incident_retried", who.username, job.spec_name, incident=incident.id,
          job=job.id)
    return incident


def run_ready_jobs(factory: sessionmaker, runtime: ProcessRuntime, limit: int = 50) -> list[JobOutcome]:
    """Claim a batch and run it here (the Prefect flow does the same, in one flow run)."""
    return run_jobs(factory, runtime, claim_jobs(factory, runtime, limit))
