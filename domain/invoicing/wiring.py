"""What the invoicing module registers at start-up: issued invoices refuse change in every session;
with the runtime the service tasks, guards, completions and task view of the order-to-invoice process; with the
mail package who may route a reply to an invoice by hand; invoices take documents (XML and PDF)."""
from __future__ import annotations

from domain.invoicing import operations, process
from domain.invoicing.access import invoice_for_change, readable_invoice
from domain.invoicing.immutability import guard
from domain.invoicing.models import Invoice
from domain.invoicing.task_view import invoice_brief


def register(kontor) -> None:
    guard(kontor.sessions)
    runtime = kontor.runtime
    operations.register(runtime.operations, kontor)
    runtime.guards.register("invoicing.approval", process.guard_approval)
    runtime.guards.register("invoicing.review_reply", process.guard_review_reply)
    runtime.completions.register("invoicing.record_approval", process.record_approval)
    runtime.register_task_view(process.PROCESS, invoice_brief)
    for record_type in ("invoice", "invoice_approval"):  # a reply to the invoice's or its approvers' mail
        kontor.mail_routes.register_record(record_type, invoice_for_change)
    kontor.document_owners.register("invoice", Invoice, _readable_invoice_file)


def _readable_invoice_file(session, who, document) -> None:
    """An invoice's XML and PDF are read by whoever may read the invoice (a portal user: once mailed)."""
    readable_invoice(session, who, document.owner_id)
