"""Prefect flow that books uploaded bank statements: one flow run per round, renamed after what it
did ("statement import CAMT 2026-11-30: 312 lines, 298 matched, 14 unmatched") and tagged with the
statements (`bank_statement:<id>`). The statement files wait in their own durable queue
(domain.payments.imports.STATEMENT_IMPORTS: leased, retried, an incident after the last attempt);
`statement_imports_round` is the work itself: the worker calls it without a flow run while Prefect
cannot be reached (flows.rounds)."""
from __future__ import annotations

from prefect import flow, get_run_logger

from domain.payments.imports import run_statement_imports
from flows.run_labels import label_this_run, summary_name, tags_of
from kernel.documents import DocumentStore
from kontor.bootstrap import current

BATCH = 5  # statement files per round: each is one transaction of its own


def statement_imports_round(kontor, log, limit: int | None = None) -> dict:
    done = run_statement_imports(kontor.sessions, DocumentStore.under(kontor.settings.data_dir), kontor.runtime, log,
                                 limit or BATCH)
    records = [f"bank_statement:{summary.statement_id}" for summary in done]
    if done:
        name = done[0].name if len(done) == 1 else summary_name("statement imports", [s.name for s in done], [])
        label_this_run(name, tags_of(records))
    summary = {"imported": len(done), "names": [s.name for s in done]}
    log.info("statement imports: %s", summary)
    return summary


@flow(name="import-bank-statements", flow_run_name="statement import", log_prints=False)
def import_bank_statements() -> dict:
    """Book the uploaded bank statements that wait; the run is renamed after what it booked."""
    return statement_imports_round(current(), get_run_logger())
