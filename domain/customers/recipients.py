"""Who gets a mail: a contact as a recipient (address, name, language, and whether marketing mail may
go to them), and who at a customer receives which kind of document. This is the one place that
decides it (README, "Who receives what"):

- A contact receives offers, invoices and dunning letters as their `receives` says.
- A new contact for whom `receives` is not given (added by hand, imported, a converted lead) receives
  every kind that nobody at the customer receives by e-mail yet: a customer's first contact receives
  everything, a second one nothing until told. An explicit `receives: []` means nothing.
- An offer (and its reminder) goes to the offer's contact, who must be active, have an e-mail
  address and receive offers; an offer without a contact goes to the customer's preferred contact if
  they receive offers, else to the longest-known contact who does. Nobody: refused, never a guess.
- An order confirmation answers the offer: it goes to the offer's contact while they are active with
  an address, else to whoever receives offers.
- Invoices and dunning letters go to the preferred contact if they receive that kind, else to the
  longest-known contact who does."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import DOCUMENT_KINDS, Contact, Customer
from kernel.errors import Conflict, NotFound, ValidationFailed
from mailers.outbox import Recipient

RECEIVES = {"offers": Contact.receives_offers, "invoices": Contact.receives_invoices,
            "dunning": Contact.receives_dunning}


@dataclass(frozen=True)
class DocumentRule:
    receives: str  # the contacts' `receives` kind that decides
    addressee_must_receive: bool  # the record's own contact gets it only if they receive that kind


# Every document Kontor mails to customers, and who gets it.
DOCUMENTS = {
    "offers": DocumentRule("offers", addressee_must_receive=True),
    "order_confirmations": DocumentRule("offers", addressee_must_receive=False),
    "invoices": DocumentRule("invoices", addressee_must_receive=True),
    "dunning": DocumentRule("dunning", addressee_must_receive=True),
}


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


def default_receives(session: Session, customer_id: int) -> list[str]:
    """What a new contact of this customer receives when nobody said: every kind that no active
    contact with an e-mail address receives yet."""
    covered = {kind for kind in DOCUMENT_KINDS if session.scalar(select(Contact.id).where(
        Contact.customer_id == customer_id, Contact.active.is_(True), Contact.email.is_not(None),
        RECEIVES[kind].is_(True)).limit(1)) is not None}
    return [kind for kind in DOCUMENT_KINDS if kind not in covered]


def why_not(contact: Contact, kind: str) -> str | None:
    """Why this contact cannot get a document they should receive as `kind`, or None."""
    if not contact.active:
        return f"contact {display_name(contact)} is no longer active"
    if not contact.email:
        return f"contact {display_name(contact)} has no e-mail address"
    if kind not in contact.receives:
        return (f"contact {display_name(contact)} does not receive {kind} (receives: "
                f"{', '.join(contact.receives) or 'nothing'}); let them receive {kind} or choose another contact")
    return None


def receiving_contact(session: Session, customer: Customer, kind: str) -> Contact | None:
    """The contact who receives this kind at the customer: the preferred one if they do, else the
    longest-known active contact with an e-mail address who does."""
    candidates = session.scalars(select(Contact).where(
        Contact.customer_id == customer.id, Contact.active.is_(True), Contact.email.is_not(None),
        RECEIVES[kind].is_(True)).order_by(Contact.id)).all()
    preferred = [c for c in candidates if c.id == customer.preferred_contact_id]
    return (preferred or candidates or [None])[0]


def document_recipient(session: Session, customer_id: int, document: str, addressee_id: int | None = None) -> Recipient:
    """Who gets this document (a key of DOCUMENTS) of this customer; `addressee_id` is the contact the
    record itself names (an offer's contact). Refused with 409 naming the reason when nobody may get it."""
    rule = DOCUMENTS.get(document)
    if rule is None:
        raise ValidationFailed("unknown document kind", [{"field": "kind", "message": f"one of {sorted(DOCUMENTS)}"}])
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    addressee = session.get(Contact, addressee_id) if addressee_id is not None else None
    if addressee is not None and addressee.customer_id == customer.id:
        reason = why_not(addressee, rule.receives)
        if reason is None or (not rule.addressee_must_receive and addressee.active and addressee.email):
            return recipient_of(session, addressee.id)
        if rule.addressee_must_receive:
            raise Conflict(f"no {document.replace('_', ' ')} mail: {reason}",
                           [{"field": "contact_id", "message": reason}])
    found = receiving_contact(session, customer, rule.receives)
    if found is None:
        message = f"nobody at customer {customer.number} receives {rule.receives} by e-mail"
        raise Conflict(f"no {document.replace('_', ' ')} mail: {message}; let a contact receive {rule.receives}",
                       [{"field": "customer_id", "message": f"no active contact with an e-mail address receives "
                                                             f"{rule.receives}"}])
    return recipient_of(session, found.id)
