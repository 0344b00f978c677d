"""Reading invoices: staff read every customer's they may read; portal users their customer's issued ones."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain.invoicing.models import Invoice
from kernel.errors import Forbidden
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal
from mailers.outbox import OutboxMail

INVOICE_SORTS = {"id": Invoice.id, "number": Invoice.number, "issue_date": Invoice.issue_date,
                 "due_date": Invoice.due_date, "gross_total": Invoice.gross_total, "created_at": Invoice.created_at}


@dataclass(frozen=True)
class InvoiceFilter:
    customer_id: int | None = None
    order_id: int | None = None
    status: str | None = None
    kind: str | None = None


def sent():
    """The invoice's mail is queued for the customer (what the portal waits for before it lists it)."""
    return exists().where(OutboxMail.record_type == "invoice", OutboxMail.record_id == Invoice.id,
                          OutboxMail.template == "invoice")


def list_invoices(session: Session, who: Principal, f: InvoiceFilter, page: PageRequest) -> tuple[list[Invoice], int]:
    statement = select(Invoice)
    if who.is_portal:
        statement = statement.where(Invoice.customer_id == who.customer_id, Invoice.status == "issued", sent())
    elif not who.is_staff:
        raise Forbidden("invoices are for staff and the customer's portal users")
    for column, value in ((Invoice.customer_id, f.customer_id), (Invoice.order_id, f.order_id),
                          (Invoice.status, f.status), (Invoice.kind, f.kind)):
        if value is not None:
            statement = statement.where(column == value)
    return page_of(session, statement, page, INVOICE_SORTS, Invoice.id)
