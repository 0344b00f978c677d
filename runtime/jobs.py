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
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from kernel.clock import utcnow
from kernel.db import table_of, transaction
from kernel.driver_sql import DriverStatement
from kernel.principal import SYSTEM, Principal
from kernel.transient import once_more_if_disconnected
from runtime import queue
from runtime.engine import ProcessError
from runtime.models import Incident, ProcessInstance, ServiceJob
from runtime.progress import audit, audit_event, jsonable, load_workflow, save_progress, settled
from runtime.runtime import JobContext, ProcessRuntime
from runtime.settings import RuntimeSettings
from runtime.store import attach, core, pipelined
from runtime.workers import CLAIMANT, Claimant

_JOB, _INSTANCE = table_of(ServiceJob), table_of(ProcessInstance)
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
    params: dict[str, Any]
    attempt: int
    spec_name: str
    records: list[str] = field(default_factory=list)  # what its operation named as worked on (JobContext.touched)


@dataclass
class JobOutcome:
    job_id: int
    operation: str
    state: str  # done | retry | incident | cancelled | lost
    error: str | None = None
    seconds: float = 0.0  # how long the operation ran


def _running_instances(statement: Select[Any]) -> Select[Any]:
    """A job is claimable only while its instance runs (a suspended instance's jobs wait)."""
    return statement.join(_INSTANCE, _INSTANCE.c.id == _JOB.c.instance_id).where(_INSTANCE.c.status == "running")


def _describe(job: ServiceJob) -> dict[str, Any]:
    return {"job_id": job.id, "instance_id": job.instance_id, "operation": job.operation}


def _audit_failure(session: Session, job: ServiceJob, error: str, dead: bool) -> None:
    audit(session, job.instance_id, "job_failed", SYSTEM.username, job.spec_name, job=job.id,
          operation=job.operation, attempt=job.attempts, error=error)
    if dead:
        audit(session, job.instance_id, "incident_opened", SYSTEM.username, job.spec_name, job=job.id,
              error=error, attempts=job.attempts)


def _audit_retry(session: Session, job: ServiceJob, incident: Incident | None, who: Principal) -> None:
    audit(session, job.instance_id, "incident_retried", who.username, job.spec_name,
          incident=incident.id if incident is not None else None, job=job.id)


SERVICE_JOBS = queue.register(queue.Queue(
    "service_jobs", ServiceJob, queue.States(ready="ready", claimed="running", done="done", dead="incident"),
    describe=_describe, scope=_running_instances, on_failure=_audit_failure, on_retry=_audit_retry))


def policy_of(settings: RuntimeSettings) -> queue.Policy:
    """Service jobs carry their own attempts and backoff base (from the task or the settings, when made)."""
    return queue.Policy(lease_seconds=settings.job_lease_seconds, backoff_max_seconds=settings.job_backoff_max_seconds)


def has_ready_jobs(session: Session) -> bool:
    return queue.has_due(session, SERVICE_JOBS)


def claim_jobs(factory: sessionmaker[Session], runtime: ProcessRuntime, limit: int,
               claimed_by: str | None | Claimant = CLAIMANT) -> list[ClaimedJob]:
    """Up to `limit` jobs become `running`, leased, and named as this worker's claims (by default
    the worker present in this process, if any)."""
    claims = queue.claim(factory, SERVICE_JOBS, policy_of(runtime.settings), limit, claimed_by=claimed_by,
                         columns=(_JOB.c.instance_id, _JOB.c.operation, _JOB.c.params, _JOB.c.spec_name))
    return [ClaimedJob(c.id, c.row.instance_id, c.row.operation, dict(c.row.params or {}), c.attempt,
                       c.row.spec_name) for c in claims]


def run_job(factory: sessionmaker[Session], runtime: ProcessRuntime, job: ClaimedJob,
            log: logging.Logger | logging.LoggerAdapter[Any] | None = None) -> JobOutcome:
    """Run a claimed job's operation, then record its outcome. Raises nothing for operation errors."""
    return run_jobs(factory, runtime, [job], log)[0]


def run_jobs(factory: sessionmaker[Session], runtime: ProcessRuntime, jobs: list[ClaimedJob],
             log: logging.Logger | logging.LoggerAdapter[Any] | None = None) -> list[JobOutcome]:
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


def release_jobs(factory: sessionmaker[Session], jobs: list[ClaimedJob]) -> None:
    """Claimed jobs still running under their attempt (no outcome recorded): free for any worker now."""
    queue.release(factory, SERVICE_JOBS, [(job.id, job.attempt) for job in jobs])


def _run_jobs(factory: sessionmaker[Session], runtime: ProcessRuntime, jobs: list[ClaimedJob],
              log: logging.Logger | logging.LoggerAdapter[Any]) -> list[JobOutcome]:
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


def _operate(runtime: ProcessRuntime, job: ClaimedJob,
             log: logging.Logger | logging.LoggerAdapter[Any]) -> tuple[Any, tuple[str, str] | None]:
    """The operation's result as JSON data, or (error, traceback) if it failed in any way."""
    context = JobContext(job.id, f"job-{job.id}", job.instance_id, job.attempt, log, job.records)
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


def record_outcomes(factory: sessionmaker[Session], runtime: ProcessRuntime,
                    succeeded: list[tuple[ClaimedJob, Any, float]],
                    log: logging.Logger | logging.LoggerAdapter[Any]) -> dict[int, JobOutcome]:
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


def _record_alone(factory: sessionmaker[Session], runtime: ProcessRuntime, job: ClaimedJob, result: Any,
                  log: logging.Logger | logging.LoggerAdapter[Any]) -> JobOutcome:
    try:
        # the operation has run: a dropped connection means its outcome is recorded again, not the work
        return once_more_if_disconnected(lambda: record_success(factory, runtime, job, result), log,
                                         f"the outcome of job {job.id}")
    except ProcessError as exc:
        error = f"the process could not go on after {job.operation}: {exc}"
        log.warning("job %s: %s", job.id, error)
        return record_failure(factory, runtime, job, error, traceback.format_exc())


def _record_together(factory: sessionmaker[Session], runtime: ProcessRuntime,
                     succeeded: list[tuple[ClaimedJob, Any, float]]
                     ) -> tuple[dict[int, JobOutcome], list[tuple[ClaimedJob, Any, float]]]:
    """One transaction for the outcomes of jobs of different instances: their rows are read and
    locked first, all in one round trip and in the order of their instances (two groups never
    wait for each other in a circle). A second job of an instance already in the group is left to
    be recorded on its own afterwards (its instance's row changes within the group)."""
    group: list[tuple[ClaimedJob, Any, float]] = []
    later: list[tuple[ClaimedJob, Any, float]] = []
    instances: set[int] = set()
    for entry in sorted(succeeded, key=lambda entry: (entry[0].instance_id, entry[0].id)):
        (later if entry[0].instance_id in instances else group).append(entry)
        instances.add(entry[0].instance_id)
    outcomes = {}
    with transaction(factory) as session:
        with pipelined(session) as connection:
            found = [_JOB_AND_INSTANCE.execute(connection, {"row_id": job.id}) for job, _, _ in group]
        for (job, result, seconds), rows in zip(group, found, strict=True):
            outcomes[job.id] = _with_seconds(_complete(session, runtime, job, rows.first(), result), seconds)
    return outcomes, later


def record_success(factory: sessionmaker[Session], runtime: ProcessRuntime, job: ClaimedJob, result: Any) -> JobOutcome:
    with transaction(factory) as session:
        with pipelined(session) as connection:  # (the transaction's BEGIN goes with the read)
            found = _JOB_AND_INSTANCE.execute(connection, {"row_id": job.id})
        return _complete(session, runtime, job, found.first(), result)


def _complete(session: Session, runtime: ProcessRuntime, job: ClaimedJob, row: dict[str, Any] | None,
              result: Any) -> JobOutcome:
    """The service task of a job whose row (with its instance's, both locked) was read in this
    transaction completes with the operation's result, and the instance moves on."""
    # a job taken over meanwhile has another attempt count
    if row is None or not queue.still_claimed(SERVICE_JOBS, row["state"], row["attempts"], job.attempt):
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
        (_UPDATE_JOB, {**queue.done_values(SERVICE_JOBS), "finished_at": finished, "row_id": job.id})])
    return JobOutcome(job.id, job.operation, "done")


def _finish(session: Session, job_id: int, **values: Any) -> None:
    _UPDATE_JOB.execute(core(session), {**values, "row_id": job_id})


def record_failure(factory: sessionmaker[Session], runtime: ProcessRuntime, job: ClaimedJob, error: str,
                   trace: str | None = None) -> JobOutcome:
    """Again after a backoff, or an incident after the last attempt (runtime.queue)."""
    with transaction(factory) as session:
        outcome, _ = queue.record_failure(session, SERVICE_JOBS, policy_of(runtime.settings), job.id, job.attempt,
                                          error, last_error=None if trace is None else f"{error}\n\n{trace[-4000:]}")
    return JobOutcome(job.id, job.operation, "incident" if outcome == "dead" else outcome, error)


def retry_incident(session: Session, incident_id: int, who: Principal) -> Incident:
    """After a fix: the incident's item (a job, a mail …) gets a fresh set of attempts, due now."""
    return queue.retry_incident(session, incident_id, who)


def run_ready_jobs(factory: sessionmaker[Session], runtime: ProcessRuntime, limit: int = 50) -> list[JobOutcome]:
    """Claim a batch and run it here (the Prefect flow does the same, in one flow run)."""
    return run_jobs(factory, runtime, claim_jobs(factory, runtime, limit))
