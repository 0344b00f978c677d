"""The application's half of "an issued invoice never changes" (the database's half are the
triggers of migration 0020, on PostgreSQL and SQLite alike): a flush that would update or delete an
issued invoice, or add, change or delete a line of one, is refused before any SQL is sent."""
from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from domain.invoicing.models import Invoice, InvoiceLine
from kernel.errors import Conflict

MESSAGE = "an issued invoice cannot change: correct it by a credit note"


class IssuedInvoiceImmutable(Conflict):
    code = "invoice_issued"


def _was_issued(invoice: Invoice) -> bool:
    history = inspect(invoice).attrs.status.history
    before = history.deleted[0] if history.deleted else invoice.status
    return before == "issued" and inspect(invoice).persistent


def _refuse_changes_of_issued_invoices(session: Session, _context, _instances) -> None:
    for record in (*session.dirty, *session.deleted):
        if isinstance(record, Invoice) and (record in session.deleted or session.is_modified(record)) \
                and _was_issued(record):
            raise IssuedInvoiceImmutable(f"{MESSAGE} (invoice {record.number})")
    for record in (*session.new, *session.dirty, *session.deleted):
        if isinstance(record, InvoiceLine) and (record in session.new or record in session.deleted
                                                or session.is_modified(record)):
            with session.no_autoflush:
                invoice = session.get(Invoice, record.invoice_id)
            if invoice is not None and _was_issued(invoice):
                raise IssuedInvoiceImmutable(f"{MESSAGE} (a line of invoice {invoice.number})")


def guard(sessions) -> None:
    """Refuse changes of issued invoices in every session this factory makes."""
    if not event.contains(sessions, "before_flush", _refuse_changes_of_issued_invoices):
        event.listen(sessions, "before_flush", _refuse_changes_of_issued_invoices)
