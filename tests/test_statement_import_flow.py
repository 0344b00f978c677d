"""The statement import runs in the worker as a real Prefect flow run, renamed after what it booked
and tagged with the statement; the upload itself answers 202 before anything is booked. SQLite and
PostgreSQL."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from flows.worker import work_once
from tests.payment_support import camt, entry, issued_invoices, upload
from tests.support import ok
from tests.test_flows import _flow_runs

pytestmark = pytest.mark.usefixtures("prefect")


def test_the_worker_imports_a_statement_as_a_flow_run_named_after_what_it_did(kontor, api):
    _, [invoice] = issued_invoices(kontor, api, [1])
    statement = upload(api, camt([entry("F-1", "142.80", text=invoice["number"]),
                                  entry("F-2", "10.00", text="unbekannt", payer_iban="DE44500105175407324931")],
                                 day=datetime(2026, 11, 30).date()))
    assert statement["state"] == "received" and statement["counts"] == {}
    assert ok(api.get(f"/bank-statements/{statement['id']}", user="alma"))["lines"] == []  # nothing booked yet
    since = datetime.now(timezone.utc)
    did = work_once(kontor)
    assert did["statements"]["imported"] == 1
    name = "statement import CAMT 2026-11-30: 2 lines, 1 matched, 1 unmatched"
    assert did["statements"]["names"] == [name]
    [(run, _)] = asyncio.run(_flow_runs("import-bank-statements", since))
    assert run.name == name and f"bank_statement:{statement['id']}" in run.tags
    assert ok(api.get(f"/bank-statements/{statement['id']}", user="alma"))["state"] == "imported"
    assert work_once(kontor)["statements"] is None  # nothing waits: no empty flow run
