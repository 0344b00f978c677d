"""The catch-up report: once Prefect answers again, one flow run "report-offline-runs" puts the rounds
that ran without a flow run into Prefect's log (per kind: rounds, first start, last finish, summed
counts; one ERROR line per round whose work failed) and marks them reported."""
from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext

from kontor.bootstrap import current
from runtime.offline_runs import claim_for_report


@flow(name="report-offline-runs", flow_run_name="report rounds without a flow run", log_prints=False)
def report_offline_runs() -> dict:
    kontor = current()
    log = get_run_logger()
    context = FlowRunContext.get()
    run_id = str(context.flow_run.id) if context and context.flow_run else "unknown"
    with kontor.transaction() as session:
        gap = claim_for_report(session, run_id)
        kinds = gap.by_kind()
        failures = [(run.kind, run.worker, run.started_at, run.error) for run in gap.runs if run.error]
    for kind, entry in kinds.items():
        log.warning("%s: %s rounds ran without a flow run (Prefect unreachable) from %s to %s, %s failed; "
                    "totals %s", kind, entry["rounds"], entry["from"].isoformat(), entry["to"].isoformat(),
                    entry["failed"], entry["totals"])
    for kind, worker, started_at, error in failures:
        log.error("%s round of %s at %s failed without a flow run: %s", kind, worker, started_at.isoformat(), error)
    log.info("catch-up report: %s rounds without a flow run", len(gap.runs))
    return {"runs": len(gap.runs),
            "kinds": {kind: {**entry, "from": entry["from"].isoformat(), "to": entry["to"].isoformat()}
                      for kind, entry in kinds.items()}}
