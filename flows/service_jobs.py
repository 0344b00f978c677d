"""Prefect flow that runs ready service jobs in batches: one flow run per batch, so Prefect's cost
(about 0.1 s a flow run, tens of ms a task run) is paid per batch, not per job. Each job's outcome is
a log line of the flow run (operation, job, attempt, result, how long the operation ran); a job that
fails for the last time is an incident in Kontor and an ERROR line here. The outcomes of quick jobs
are recorded together (runtime.jobs.run_jobs). `service_jobs_round` is the work itself: the worker
calls it without a flow run while Prefect cannot be reached (flows.rounds)."""
from __future__ import annotations

from prefect import flow, get_run_logger

from flows.run_labels import label_this_run, summary_name, tags_of
from kontor.bootstrap import current
from runtime.jobs import claim_jobs, run_jobs


def service_jobs_round(kontor, log, limit: int | None = None) -> dict:
    jobs = claim_jobs(kontor.sessions, kontor.runtime, limit or kontor.settings.job_batch_size)
    summary = {"claimed": len(jobs), "done": 0, "failed": 0}
    outcomes = run_jobs(kontor.sessions, kontor.runtime, jobs, log=log)
    records = list(dict.fromkeys(record for job in jobs for record in job.records))
    if jobs:
        label_this_run(summary_name("jobs", [job.operation for job in jobs], records),
                       tags_of(records, *(f"operation:{job.operation}" for job in jobs)))
    for job, outcome in zip(jobs, outcomes, strict=True):
        line = (f"job #{job.id} {job.operation} attempt {job.attempt} (instance {job.instance_id}): "
                f"{outcome.state} in {outcome.seconds * 1000:.0f} ms" + (f": {outcome.error}" if outcome.error else ""))
        if outcome.state == "incident":
            log.error(line)
        elif outcome.state == "retry":
            log.warning(line)
        else:
            log.info(line)
        summary["failed" if outcome.state in ("retry", "incident") else "done"] += 1
    if records:
        summary["records"] = records
    log.info("service jobs: %s", summary)
    return summary


@flow(name="run-service-jobs", flow_run_name="service jobs", log_prints=False)
def run_service_jobs() -> dict:
    """Run a batch of ready service jobs; the run is renamed after their operations and records."""
    return service_jobs_round(current(), get_run_logger())
