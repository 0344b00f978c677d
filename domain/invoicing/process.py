"""The order-to-invoice process of an invoice (bpmn/order_to_invoice.bpmn): releasing a draft starts
it; the rules decide whether someone else approves it first (four eyes: never whoever drafted,
changed or released it); its service tasks issue it, render it and mail it; a reply to its mail opens
a review for accounting. Authority is checked where the effect happens: on claim and on completion."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain.customers.models import Customer
from domain.customers.timeline import record_trace
from domain.invoicing.access import invoice_for_change
from domain.invoicing.commands import draft_for_change
from domain.invoicing.issuing import lines_of, totals_of
from domain.invoicing.models import Invoice
from domain.lifecycle import TraceEntry, change_state
from kernel import formatting
from kernel.errors import Conflict, ExpectedVersion, Forbidden, ValidationFailed
from kernel.principal import Principal
from runtime.instances import start_instance
from runtime.models import HumanTask
from runtime.runtime import ProcessRuntime

PROCESS = "order_to_invoice"
WORDS = {"invoice": "invoice", "down_payment": "down-payment invoice", "credit_note": "credit note"}


def summary(session: Session, invoice: Invoice, gross: Decimal) -> str:
    customer = session.get(Customer, invoice.customer_id)
    return f"{invoice.label} · {customer.name} · {formatting.money(gross, invoice.currency, 'de')}"


def release(session: Session, runtime: ProcessRuntime, who: Principal, invoice_id: int,
            version: ExpectedVersion, check: Callable[[Session, Principal, int], None]) -> Invoice:
    """Release the draft for issue: `check` tries the issue first (what the law asks, the e-invoice's
    rules: 422 naming each), then its process starts and decides whether it needs an approval. An
    invoice released or issued already is answered as it is (a retried request starts nothing)."""
    invoice = invoice_for_change(session, who, invoice_id)
    if invoice.status != "draft":
        return invoice
    invoice = draft_for_change(session, who, invoice_id, version)
    check(session, who, invoice.id)
    invoice = invoice_for_change(session, who, invoice_id)  # as it was: the try was undone
    lines = lines_of(session, invoice.id)
    if not lines:
        raise ValidationFailed(f"invoice {invoice.label} has no lines",
                               [{"field": "lines", "message": "an invoice has at least one line"}])
    gross = totals_of(invoice, lines).gross_total
    first = not session.scalar(select(exists().where(Invoice.customer_id == invoice.customer_id,
                                                     Invoice.status == "issued", Invoice.kind != "credit_note")))
    data = {"invoice_id": invoice.id, "kind": invoice.kind, "gross_total": str(gross),
            "manual_prices": invoice.manual_prices, "first_invoice": first and invoice.kind != "credit_note",
            "invoice_summary": summary(session, invoice, gross), "released_by": who.username,
            "drafted_by": invoice.created_by}
    invoice.released_by = who.username
    change_state(session, invoice, "released")
    session.flush()
    instance, _ = start_instance(session, runtime, who, PROCESS, data,
                                 business_key=f"invoice-{invoice.id}-v{invoice.version}")
    invoice.instance_id = instance.id
    return invoice


def authors(invoice: Invoice) -> set[str]:
    """Whoever drafted, changed or released the invoice."""
    return {invoice.created_by, invoice.released_by or invoice.created_by, *(invoice.editors or [])}


def guard_approval(session: Session, who: Principal, task: HumanTask, variables: dict, action: str,
                   data: dict | None) -> None:
    """The rules' approver group, four eyes, on the invoice the process was started for."""
    group = variables["approver_group"]
    if who.is_portal or group not in who.groups:
        raise Forbidden(f"approving this invoice needs the group {group}")
    invoice = session.get(Invoice, variables["invoice_id"])
    if who.username in authors(invoice):
        raise Forbidden("four eyes: whoever drafted, changed or released an invoice does not approve it")
    if invoice.status != "released" or invoice.instance_id != task.instance_id:
        raise Conflict(f"invoice {invoice.label} is {invoice.status}; this approval is no longer asked for")


def record_approval(session: Session, who: Principal, task: HumanTask, variables: dict, data: dict) -> None:
    """An approval leaves the invoice released (its issue follows); a rejection makes it a draft again."""
    invoice = session.get(Invoice, variables["invoice_id"], with_for_update=True)
    reason = data.get("reason")
    if data["decision"] == "approve":
        record_trace(session, invoice.customer_id, "invoice_approved", who.username,
                     f"invoice {invoice.label} approved for issue ({variables.get('approval_rule')})",
                     "invoice", invoice.id, params={"invoice": invoice.label})
        return
    change_state(session, invoice, "draft", TraceEntry(
        "invoice_rejected", who.username, f"invoice {invoice.label} sent back to draft: {reason}",
        details={"params": {"invoice": invoice.label, "reason": reason}}))


def guard_review_reply(session: Session, who: Principal, task: HumanTask, variables: dict, action: str,
                       data: dict | None) -> None:
    if who.is_portal or not who.has_any("accounting", "manager"):
        raise Forbidden("replies to invoices are reviewed by accounting or a manager")
