"""Taking one received message in, in one transaction: store it once (raw source in the document
store, attachments as documents), set automatic mail and mail loops aside, route it, and hand a
routed reply to the waiting process as a BPMN message (its id derived from the Message-ID, so a
second delivery has no second effect). Routing again by hand goes through the same steps."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain.customers.models import Contact
from domain.customers.timeline import record_trace
from domain.documents import Document, DocumentStore
from domain.sales.leads import create_lead
from domain.users import Principal
from kontor.db import utcnow
from kontor.settings import Settings
from mailers.classify import classify
from mailers.inbound_models import InboundMail
from mailers.parse import parse
from mailers.reply_text import reply_text
from mailers.routing import Route, route
from runtime.errors import Conflict, ValidationFailed
from runtime.messages import correlate_message
from runtime.runtime import ProcessRuntime

INTAKE = Principal("mail-intake", frozenset({"admin"}))


@dataclass(frozen=True)
class Mailbox:
    name: str
    leads: bool = False  # unknown senders become leads


def reply_message_name(record_type: str) -> str:
    """The BPMN message a reply to a mail about a record becomes, e.g. offer_reply (offer_id)."""
    return f"{record_type}_reply"


def take_in(session: Session, runtime: ProcessRuntime, settings: Settings, store: DocumentStore, mailbox: Mailbox,
            uid: int | None, raw: bytes, size: int | None = None, oversized: bool = False) -> tuple[InboundMail, bool]:
    """(the stored message, whether it is new). For an oversized message, `raw` holds its headers only."""
    parsed = parse(raw)
    existing = session.scalar(select(InboundMail).where(InboundMail.message_id == parsed.message_id))
    if existing is not None:
        return existing, False
    mail = InboundMail(mailbox=mailbox.name, uid=uid, message_id=parsed.message_id, size=size or len(raw),
                       raw_sha256=None if oversized else store.put(raw), sender=parsed.sender,
                       sender_name=(parsed.sender_name or "")[:200] or None, recipients=parsed.recipients[:50],
                       subject=parsed.subject, sent_at=parsed.date, in_reply_to=parsed.in_reply_to[:20],
                       references=parsed.references[-20:], reply_text=reply_text(parsed.text)[:20_000],
                       defects=sorted(set(parsed.defects))[:20], state="quarantined", route="quarantine")
    session.add(mail)
    session.flush()
    if oversized:
        return _set_aside(mail, "quarantined", "quarantine",
                          f"too large: {mail.size} bytes, the limit is {settings.inbound_max_bytes}"), True
    automatic = classify(parsed)
    if automatic is not None:
        mail.automatic = automatic.kind
        if automatic.kind == "bounce":
            _mark_bouncing(session, automatic.failed_addresses)
        _set_aside(mail, "ignored", "automatic", automatic.reason)
    elif _looping(session, settings, mail):
        _set_aside(mail, "ignored", "automatic",
                   f"mail loop: more than {settings.inbound_loop_limit} messages from {mail.sender} within an hour")
    else:
        apply_route(session, runtime, mail, route(session, settings, parsed, mailbox.leads), INTAKE)
    for attachment in parsed.attachments:  # kept whatever became of the message, on its customer if known
        session.add(Document(owner_type="inbound_mail", owner_id=mail.id, customer_id=mail.customer_id,
                             filename=(attachment.filename or "attachment.bin").replace("/", "_")[:255],
                             content_type=attachment.content_type[:100], size=len(attachment.content),
                             sha256=store.put(attachment.content), uploaded_by=INTAKE.username))
    return mail, True


def _set_aside(mail: InboundMail, state: str, layer: str, reason: str) -> InboundMail:
    mail.state, mail.route, mail.reason = state, layer, reason[:500]
    return mail


def _mark_bouncing(session: Session, addresses: tuple[str, ...]) -> None:
    if addresses:
        session.execute(update(Contact).where(func.lower(Contact.email).in_(addresses),
                                              Contact.email_bounced_at.is_(None)).values(email_bounced_at=utcnow()))


def _looping(session: Session, settings: Settings, mail: InboundMail) -> bool:
    if not mail.sender:
        return False
    recent = session.scalar(select(func.count()).select_from(InboundMail).where(
        InboundMail.sender == mail.sender, InboundMail.received_at > utcnow() - timedelta(hours=1),
        InboundMail.id != mail.id))
    return recent >= settings.inbound_loop_limit


def apply_route(session: Session, runtime: ProcessRuntime, mail: InboundMail, decided: Route,
                who: Principal) -> InboundMail:
    mail.route, mail.reason = decided.layer, decided.reason
    mail.outbox_id, mail.customer_id, mail.contact_id = decided.outbox_id, decided.customer_id, decided.contact_id
    mail.record_type, mail.record_id = decided.record_type, decided.record_id
    if decided.layer == "quarantine":
        mail.state = "quarantined"
        return mail
    if decided.layer == "new_lead":
        lead = create_lead(session, who, {
            "kind": "person", "email": mail.sender, "last_name": mail.sender_name or mail.sender, "source": "email",
            "message": (f"{mail.subject}\n\n{mail.reply_text}" if mail.subject else mail.reply_text)[:20_000]})
        mail.lead_id, mail.state = lead.id, "routed"
        return mail
    if decided.record_type and decided.record_id is not None:
        name = reply_message_name(decided.record_type)
        try:
            with session.begin_nested():
                correlate_message(session, runtime, who, name, {f"{decided.record_type}_id": decided.record_id},
                                  data={"inbound_mail_id": mail.id, "from": mail.sender, "subject": mail.subject,
                                        "reply_text": mail.reply_text, "route": decided.layer},
                                  message_id=f"mail:{mail.message_id}")
        except (Conflict, ValidationFailed) as exc:
            mail.state, mail.reason = "quarantined", f"the process could not take it: {exc.message}"[:500]
            return mail
        mail.delivered_message = name
    mail.state = "routed"
    if mail.customer_id is not None:
        record_trace(session, mail.customer_id, "mail_received", who.username,
                     f"mail from {mail.sender}: {mail.subject}", "inbound_mail", mail.id, route=decided.layer)
    return mail
