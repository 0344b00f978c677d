"""The worker as it runs in production (default settings, real Prefect server, every round a flow
run): timer lag (fired minus due) for timers spread over time and for a burst due at once, and
service jobs carried per second when each flow run takes a batch."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from bench.common import stopwatch, summary_ms
from flows.worker import start_worker_thread
from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.models import AuditEvent, ProcessInstance, ServiceJob


def _wait_for(kontor, what: str, done, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with kontor.transaction() as session:
            if done(session):
                return
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not finish {what} within {timeout:.0f} s")


def _lags(kontor, since_id: int) -> list[float]:
    with kontor.transaction() as session:
        details = session.scalars(select(AuditEvent.details).where(AuditEvent.kind == "timer_fired",
                                                                   AuditEvent.id > since_id)).all()
    return [d["lag_seconds"] for d in details]


def _last_audit_id(kontor) -> int:
    with kontor.transaction() as session:
        return session.scalar(select(func.max(AuditEvent.id))) or 0


def _running(kontor, process: str):
    return lambda session: session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.process_key == process, ProcessInstance.status == "running")) == 0


def timer_lag(kontor, spread_timers: int, spread_seconds: float, burst_timers: int) -> dict:
    """Timers due over `spread_seconds` (steady load), then `burst_timers` due at the same moment."""
    results = {}
    thread, stop = start_worker_thread(kontor)
    try:
        for label, count, spread in (("spread", spread_timers, spread_seconds), ("burst", burst_timers, 0.0)):
            since = _last_audit_id(kontor)
            begin = datetime.now(timezone.utc) + timedelta(seconds=3)
            with kontor.transaction() as session:
                for n in range(count):
                    wake_at = begin + timedelta(seconds=spread * n / max(1, count - 1))
                    start_instance(session, kontor.runtime, SYSTEM, "bench_timer", {"wake_at": wake_at.isoformat()})
            _wait_for(kontor, f"{count} timers", _running(kontor, "bench_timer"), timeout=spread + 120)
            lags = _lags(kontor, since)
            if len(lags) != count:
                raise RuntimeError(f"{len(lags)} of {count} timers fired")
            results[label] = {"timers": count, "over_s": spread,
                              **{k.replace("_ms", "_s"): round(v / 1000, 3) for k, v in summary_ms(lags).items()
                                 if k != "n"}}
    finally:
        stop.set()
        thread.join(timeout=30)
    return results


def _done_jobs(kontor) -> int:
    with kontor.transaction() as session:
        return session.scalar(select(func.count()).select_from(ServiceJob).where(ServiceJob.state == "done"))


def jobs_through_prefect(kontor, jobs: int) -> dict:
    """`jobs` service jobs made ready at once, run by the worker as Prefect flow runs (batches)."""
    done_before = _done_jobs(kontor)
    with kontor.transaction() as session:
        for n in range(jobs):
            start_instance(session, kontor.runtime, SYSTEM, "demo_request",
                           {"amount": 300, "request_id": f"P-{n}"})
    thread, stop = start_worker_thread(kontor)
    try:
        with stopwatch() as took:
            _wait_for(kontor, f"{jobs} service jobs", lambda session: session.scalar(
                select(func.count()).select_from(ServiceJob).where(ServiceJob.state == "done")) >= done_before + jobs,
                timeout=600)
    finally:
        stop.set()
        thread.join(timeout=30)
    batch = kontor.settings.job_batch_size
    return {"jobs": jobs, "batch_size": batch, "flow_runs": -(-jobs // batch), "seconds": round(took(), 2),
            "jobs_per_s": round(jobs / took(), 1)}
