"""Who gets a mail: a contact as a recipient (address, name, language, and whether marketing mail may
go to them), and the contact of a customer who receives a kind of document (offers, invoices,
dunning) so that dispatch picks the right person."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import Contact, Customer
from kernel.errors import NotFound, ValidationFailed
from mailers.outbox import Recipient

RECEIVES = {"offers": Contact.receives_offers, "invoices": Contact.receives_invoices,
            "dunning": Contact.receives_dunning}


def marketing_block(contact: Contact, customer: Customer) -> str | None:
    """Why no marketing mail may go to this contact, or None. Opt-in is the rule: consent must be
    granted, neither the contact nor the customer may carry the "no contact" flag, and the address
    must not have bounced."""
    if customer.no_contact:
        return f"customer {customer.number} is flagged 'no contact'"
    if contact.no_contact:
        return f"contact {contact.id} is flagged 'no contact'"
    if contact.email_bounced_at is not None:
        return f"mail to {contact.email} came back as undeliverable"
    if contact.marketing_consent != "granted":
        return f"contact {contact.id} has not granted marketing consent ({contact.marketing_consent})"
    return None


def display_name(contact: Contact) -> str:
    return " ".join(part for part in (contact.first_name, contact.last_name) if part)


def recipient_of(session: Session, contact_id: int) -> Recipient:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    if not contact.email:
        raise ValidationFailed("the contact has no e-mail address",
                               [{"field": "contact_id", "message": f"contact {contact_id} has no e-mail address"}])
    customer = session.get(Customer, contact.customer_id)
    return Recipient(address=contact.email, name=display_name(contact), language=contact.language,
                     customer_id=customer.id, contact_id=contact.id, marketing_block=marketing_block(contact, customer))


def document_recipient(session: Session, customer_id: int, kind: str) -> Recipient:
    """The active contact with an e-mail address who receives this kind of document; the customer's
    preferred contact first, then the oldest. 422 when nobody does."""
    if kind not in RECEIVES:
        raise ValidationFailed("unknown document kind", [{"field": "kind", "message": f"one of {sorted(RECEIVES)}"}])
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    candidates = session.scalars(select(Contact).where(
        Contact.customer_id == customer_id, Contact.active.is_(True), Contact.email.is_not(None),
        RECEIVES[kind].is_(True)).order_by(Contact.id)).all()
    if not candidates:
        raise ValidationFailed(f"nobody at customer {customer.number} receives {kind}", [
            {"field": "customer_id", "message": f"no active contact with an e-mail address receives {kind}"}])
    preferred = [c for c in candidates if c.id == customer.preferred_contact_id]
    return recipient_of(session, (preferred or candidates)[0].id)
