"""Helpers of the dunning tests: invoices issued on an earlier day (so that they are overdue now),
the dunning run as a real Prefect flow run, the case's timer brought forward, the case as the API
shows it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from domain.invoicing.einvoice import make_einvoice
from domain.invoicing.files import keep_file
from domain.invoicing.issuing import issue_invoice
from flows.dunning import run_dunning
from flows.worker import quiet_flow_settings
from kernel.documents import DocumentStore
from kernel.principal import Principal
from tests.invoice_support import deliver, draft, drive, order_of
from tests.support import ok


def issued_on(kontor, api, invoice: dict, day: date, user: str = "alma") -> dict:
    """Issue the draft as if on `day` (its number, dates and e-invoice of that day)."""
    store = DocumentStore.under(kontor.settings.data_dir)
    with kontor.transaction() as session:
        issue_invoice(session, Principal(user, frozenset({"accounting"})), invoice["id"], kontor.settings, day,
                      make_einvoice=make_einvoice,
                      keep_file=lambda s, i, f: keep_file(s, store, kontor.document_owners, i, "xml", f))
    return ok(api.get(f"/invoices/{invoice['id']}", user=user))


def overdue_invoice(kontor, api, setup, hours: str = "10", days_ago: int = 60) -> dict:
    """Consulting delivered and invoiced `days_ago` days ago, due after the customer's payment days."""
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: hours})
    [made] = draft(api, order_id=order["id"])
    return issued_on(kontor, api, made, date.today() - timedelta(days=days_ago))


def dunning_run(kontor) -> dict:
    """The daily dunning run, as the worker runs it: a Prefect flow run."""
    with quiet_flow_settings():
        return run_dunning()


def case_of(api, invoice: dict, user: str = "alma") -> dict:
    [case] = ok(api.get("/dunning", params={"invoice_id": invoice["id"]}, user=user))["items"]
    return case


def time_is_up(kontor, api, case: dict) -> None:
    """The waiting time of the case's letter is over: ops move its timer to now (as if the days had
    passed) and the worker fires it."""
    [timer] = ok(api.get("/timers", params={"instance_id": case["instance_id"]}, user="olga"))["items"]
    now = datetime.now(timezone.utc).isoformat()
    ok(api.post(f"/timers/{timer['id']}/reschedule", {"due_at": now}, user="olga"))
    drive(kontor)
