"""Who may do what with invoices: accounting and managers draft, issue and correct them; every
staff member reads them; a customer's portal users read its issued invoices once sent, nothing else."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer
from domain.invoicing.models import Invoice
from kernel.errors import Forbidden, NotFound
from kernel.principal import Principal
from mailers.outbox import OutboxMail

INVOICING_ROLES = ("accounting", "manager")


def require_invoicing(who: Principal) -> None:
    if who.is_portal:
        raise NotFound("no invoicing here")
    if not who.has_any(*INVOICING_ROLES):
        raise Forbidden("invoices are drafted, issued and corrected by accounting or a manager")


def readable_invoice(session: Session, who: Principal, invoice_id: int, lock: bool = False) -> Invoice:
    """The invoice if this user may read it: staff every one, a portal user only its customer's
    issued ones once they were sent; NotFound otherwise (nothing tells a portal user that a draft exists)."""
    invoice = session.get(Invoice, invoice_id, with_for_update=lock or None)
    if invoice is None or (who.is_portal and (invoice.status != "issued" or not _sent(session, invoice.id))):
        raise NotFound(f"invoice {invoice_id} not found")
    if not who.is_portal and not who.is_staff:
        raise Forbidden("invoices are for staff and the customer's portal users")
    readable_customer(session, who, invoice.customer_id, ("invoice", invoice_id))
    return invoice


def _sent(session: Session, invoice_id: int) -> bool:
    return session.scalar(select(OutboxMail.id).where(OutboxMail.record_type == "invoice",
                                                      OutboxMail.record_id == invoice_id,
                                                      OutboxMail.template == "invoice").limit(1)) is not None


def invoice_for_change(session: Session, who: Principal, invoice_id: int) -> Invoice:
    """The invoice, locked, for accounting or a manager to change; NotFound for whoever may not read it."""
    invoice = readable_invoice(session, who, invoice_id, lock=True)
    require_invoicing(who)
    return invoice
