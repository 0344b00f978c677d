"""Where a received message belongs, decided in fixed layers, the first that matches wins:
signed reply token → In-Reply-To/References matched to sent Message-IDs → subject tag such as
[OFF-2026-0012] → sender matched to a known contact → new lead (the leads mailbox only) →
quarantine. The first three find the mail it answers, and with it the record and the customer. A
subject tag counts only from the recipient of that mail or a contact of its customer: tags are
guessable, tokens and Message-IDs are not."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.customers.models import Contact
from kontor.settings import Settings
from mailers import tokens
from mailers.outbox import OutboxMail
from mailers.parse import ParsedMail

SUBJECT_TAG = re.compile(r"\[([A-Z]{2,5}-\d{4}-\d{1,8}(?:-\d{1,3})?)\]")  # OFF-2026-0012, revision 2: OFF-2026-0012-2


@dataclass(frozen=True)
class Route:
    layer: str  # reply_token | thread | subject_tag | sender | new_lead | quarantine
    outbox_id: int | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    record_type: str | None = None
    record_id: int | None = None
    reason: str | None = None


def _answering(layer: str, sent: OutboxMail) -> Route:
    return Route(layer, outbox_id=sent.id, customer_id=sent.customer_id, contact_id=sent.contact_id,
                 record_type=sent.record_type, record_id=sent.record_id)


def _by_token(session: Session, settings: Settings, mail: ParsedMail) -> OutboxMail | None:
    key = settings.signing_key()
    for recipient in mail.recipients:
        token = tokens.token_in_address(recipient, settings.reply_local, settings.reply_domain)
        outbox_id = tokens.verify(key, token) if token else None
        if outbox_id is not None:
            sent = session.get(OutboxMail, outbox_id)
            if sent is not None:
                return sent
    return None


def _by_thread(session: Session, mail: ParsedMail) -> OutboxMail | None:
    ids = [*mail.in_reply_to, *reversed(mail.references)]  # the direct parent first, then the newest ancestor
    if not ids:
        return None
    found = {row.message_id: row for row in session.scalars(select(OutboxMail).where(OutboxMail.message_id.in_(ids)))}
    return next((found[i] for i in ids if i in found), None)


def _by_subject_tag(session: Session, mail: ParsedMail) -> OutboxMail | None:
    for tag in SUBJECT_TAG.findall(mail.subject):
        sent = session.scalar(select(OutboxMail).where(OutboxMail.subject_tag == tag)
                              .order_by(OutboxMail.id.desc()).limit(1))
        if sent is not None:
            return sent
    return None


def _speaks_for(session: Session, sent: OutboxMail, sender: str | None) -> bool:
    """Whether the sender is the one the mail went to, or a contact of its customer."""
    if not sender:
        return False
    if sender == sent.to_address.lower():
        return True
    if sent.customer_id is None:
        return False
    return session.scalar(select(Contact.id).where(Contact.customer_id == sent.customer_id,
                                                   func.lower(Contact.email) == sender).limit(1)) is not None


def route(session: Session, settings: Settings, mail: ParsedMail, leads_mailbox: bool) -> Route:
    sent = _by_token(session, settings, mail)
    if sent is not None:
        return _answering("reply_token", sent)
    sent = _by_thread(session, mail)
    if sent is not None:
        return _answering("thread", sent)
    sent = _by_subject_tag(session, mail)
    if sent is not None:
        if _speaks_for(session, sent, mail.sender):
            return _answering("subject_tag", sent)
        # numbers in subjects are easy to guess: a stranger's mail waits for a person to decide
        return Route("quarantine", outbox_id=sent.id, customer_id=sent.customer_id, record_type=sent.record_type,
                     record_id=sent.record_id, reason=f"subject tag [{sent.subject_tag}] from {mail.sender}, who is "
                                                      "not a contact of the customer it was sent to")
    if mail.sender:
        contacts = session.scalars(select(Contact).where(func.lower(Contact.email) == mail.sender,
                                                         Contact.active.is_(True)).order_by(Contact.id)).all()
        customers = {c.customer_id for c in contacts}
        if len(customers) == 1:
            return Route("sender", customer_id=contacts[0].customer_id, contact_id=contacts[0].id)
        if len(customers) > 1:
            return Route("quarantine", reason=f"the sender is a contact of {len(customers)} customers: "
                                              f"{', '.join(str(c) for c in sorted(customers))}")
    if leads_mailbox:
        return Route("new_lead")
    return Route("quarantine", reason="no reply token, no known thread or subject tag, unknown sender")
