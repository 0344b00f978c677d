"""Prefect flows for time: fire due BPMN timers; expire buffered messages whose time-to-live ended.
The `*_round` functions are the work itself: the worker calls them without a flow run while Prefect
cannot be reached (flows.rounds)."""
from __future__ import annotations

from prefect import flow, get_run_logger

from flows.run_labels import label_this_run, summary_name, tags_of
from kontor.bootstrap import current
from runtime.messages import expire_buffered_messages
from runtime.timers import fire_due_timers


def timers_round(kontor, log, limit: int | None = None) -> dict:
    fired = fire_due_timers(kontor.sessions, kontor.runtime, limit or kontor.settings.timer_batch_size,
                            on_error=lambda timer_id, exc: log.error("timer %s failed: %s", timer_id, exc))
    for f in fired:
        log.info("timer %s of instance %s fired %.3f s after its due time", f.spec_name, f.instance_id, f.lag_seconds)
    lags = [f.lag_seconds for f in fired]
    if fired:
        label_this_run(summary_name("timers", [f.spec_name for f in fired], []),
                       tags_of(f"instance:{f.instance_id}" for f in fired))
    return {"fired": len(fired), "max_lag_seconds": max(lags) if lags else None}


def housekeeping_round(kontor, log) -> int:
    with kontor.transaction() as session:
        count = expire_buffered_messages(session)
    log.info("%s buffered messages expired", count)
    return count


@flow(name="fire-due-timers", flow_run_name="due timers", log_prints=False)
def fire_timers() -> dict:
    """Fire the timers that are due; the run is renamed after them and tagged with their instances."""
    return timers_round(current(), get_run_logger())


@flow(name="expire-buffered-messages", flow_run_name="expire buffered messages", log_prints=False)
def expire_messages() -> int:
    return housekeeping_round(current(), get_run_logger())
