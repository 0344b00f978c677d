"""Prefect flow of the daily periodic invoicing run (Rechnungslauf, domain.invoicing.periodic): the
run is renamed after what it did ("invoice run 2026-12-07: 3 released, 1 left as draft") and tagged
with the invoices; issuing, rendering and mailing each invoice are its process's service tasks.
`invoice_run_round` is the work itself: the worker calls it without a flow run while Prefect cannot
be reached (flows.rounds)."""
from __future__ import annotations

from functools import partial

from prefect import flow, get_run_logger

from domain.invoicing.files import check_with_einvoice
from domain.invoicing.periodic import run_periodic_invoicing
from domain.settings import company_today
from flows.run_labels import label_this_run, tags_of
from kontor.bootstrap import current


def invoice_run_round(kontor, log) -> dict:
    today = company_today(kontor.settings)
    with kontor.transaction() as session:
        run = run_periodic_invoicing(session, kontor.runtime, today, partial(check_with_einvoice, kontor=kontor))
    labels = [*run.released, *run.left_as_draft]
    name = f"invoice run {today.isoformat()}: {len(run.released)} released" + (
        f", {len(run.left_as_draft)} left as draft" if run.left_as_draft else "")
    label_this_run(name, tags_of([f"invoice:{label}" for label in labels], "invoicing"))
    summary = {"day": today.isoformat(), "released": run.released, "left_as_draft": run.left_as_draft}
    log.info("invoice run: %s", summary)
    return summary


@flow(name="invoice-run", flow_run_name="invoice run", log_prints=False)
def run_invoicing() -> dict:
    """Draft and release the invoices of recurring positions whose period began; renamed after them."""
    return invoice_run_round(current(), get_run_logger())
