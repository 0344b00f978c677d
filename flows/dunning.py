"""Prefect flow of the daily dunning run (Mahnlauf): starts a dunning case, with its process, for every
invoice overdue beyond the grace days (domain.dunning.cases). The run is renamed after what it did
("dunning run 2026-12-07: 3 invoices (INV-2026-0001, …)") and tagged with the invoices; the letters
themselves are written by the cases' service tasks, each a run of service jobs named after its invoice.
`dunning_round` is the work itself: the worker calls it without a flow run while Prefect cannot be
reached (flows.rounds)."""
from __future__ import annotations

from prefect import flow, get_run_logger

from domain.dunning.cases import start_due_cases
from domain.settings import company_today
from flows.run_labels import label_this_run, summary_name, tags_of
from kernel.principal import SYSTEM
from kontor.bootstrap import current


def dunning_round(kontor, log, limit: int | None = None) -> dict:
    today = company_today(kontor.settings)
    with kontor.transaction() as session:
        outcome = start_due_cases(session, kontor.runtime, SYSTEM, today, kontor.settings.dunning_grace_days,
                                  **({"limit": limit} if limit else {}))
    started = list(outcome.started)
    records = [f"invoice:{number}" for number in started]
    what = f"{len(started)} invoice{'s' if len(started) != 1 else ''}" + (
        f" ({', '.join(started[:5])}{', …' if len(started) > 5 else ''})" if started else "")
    label_this_run(summary_name("dunning runs", [f"dunning run {today.isoformat()}: {what}"], []),
                   tags_of(records, "dunning"))
    summary = {"day": today.isoformat(), "started": started, "left": outcome.left}
    log.info("dunning run: %s", summary)
    return summary


@flow(name="dunning-run", flow_run_name="dunning run", log_prints=False)
def run_dunning() -> dict:
    """Start dunning for the invoices overdue beyond the grace days; the run is renamed after them."""
    return dunning_round(current(), get_run_logger())
