"""Taking one received message in, in one transaction: store it once (raw source in the document
store, attachments as documents), set automatic mail and mail loops aside, route it, and hand a
routed reply to the waiting process as a BPMN message (its id derived from the Message-ID, so a
second delivery has no second effect). Routing again by hand goes through the same steps.

The message carries the route's evidence: "proof" (reply token, thread) or "claim" (subject tag,
known sender, by hand, or any route whose sender failed the receiving server's checks), and with a
claim the reason a person has to decide. A process moves on by itself only on proof; on a claim it
asks a person (the offer's "Review customer reply").

Who the sender is, the lead a stranger's mail to the leads mailbox becomes and the trace on the
customer come from the business modules through MailRoutes (mailers.routes)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.clock import utcnow
from kernel.documents import Document, DocumentStore
from kernel.errors import Conflict, ValidationFailed
from kernel.principal import Principal
from mailers.classify import Automatic, classify
from mailers.inbound_models import InboundMail
from mailers.outbox import OutboxMail
from mailers.parse import ParsedMail, clean, parse
from mailers.proof_text import without_proof
from mailers.reply_text import reply_text
from mailers.routes import MailRoutes
from mailers.routing import Route, route
from mailers.settings import MailSettings
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


@dataclass
class ChunkKnowledge:
    """What a reader learned about a whole chunk in two queries, sparing two per message: the
    Message-IDs already stored, and how many messages each sender sent within the last hour."""
    stored: set[str] = field(default_factory=set)
    recent: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session, message_ids: list[str], senders: list[str]) -> ChunkKnowledge:
        stored = set(session.scalars(select(InboundMail.message_id).where(InboundMail.message_id.in_(message_ids))))
        recent = dict(session.execute(
            select(InboundMail.sender, func.count()).where(InboundMail.sender.in_(senders),
                                                           InboundMail.received_at > utcnow() - timedelta(hours=1))
            .group_by(InboundMail.sender)).all()) if senders else {}
        return cls(stored, recent)


def take_in(session: Session, runtime: ProcessRuntime, settings: MailSettings, routes: MailRoutes, store: DocumentStore,
            mailbox: Mailbox, uid: int | None, raw: bytes, size: int | None = None, oversized: bool = False,
            parsed: ParsedMail | None = None, known: ChunkKnowledge | None = None) -> tuple[InboundMail, bool]:
    """(the stored message, whether it is new). For an oversized message, `raw` holds its headers only.
    The message's fate is decided before its row is written, so that the row is written once."""
    parsed = parsed or parse(raw)
    if known is None or parsed.message_id in known.stored:
        existing = session.scalar(select(InboundMail).where(InboundMail.message_id == parsed.message_id))
        if existing is not None:
            return existing, False
    mail = InboundMail(mailbox=mailbox.name, uid=uid, message_id=parsed.message_id, size=size or len(raw),
                       raw_sha256=None if oversized else store.put(raw), sender=parsed.sender,
                       sender_name=parsed.sender_name, recipients=parsed.recipients[:50],
                       subject=without_proof(parsed.subject), sent_at=parsed.date,
                       in_reply_to=parsed.in_reply_to[:20], references=parsed.references[-20:],
                       reply_text=without_proof(reply_text(parsed.text))[:20_000],
                       defects=sorted(set(parsed.defects))[:20], state="quarantined", route="quarantine")
    decided = None
    if oversized:
        _set_aside(mail, "quarantined", "quarantine",
                   f"too large: {mail.size} bytes, the limit is {settings.inbound_max_bytes}")
    elif (automatic := classify(parsed)) is not None:
        mail.automatic = automatic.kind
        reason = automatic.reason
        if automatic.kind == "bounce" and not _mark_bouncing(session, routes, automatic):
            reason += "; it names no mail that Kontor sent, so no contact is marked as bouncing"
        _set_aside(mail, "ignored", "automatic", reason)
    elif _looping(session, settings, mail, known):
        loop = f"mail loop: more than {settings.inbound_loop_limit} messages from {mail.sender} within an hour"
        answering = route(session, settings, routes.senders, parsed, mailbox.leads and routes.takes_leads)
        if answering.is_proof:  # a From: anyone can forge must not silence a real answer: a person looks
            _take_route(mail, replace(answering, layer="quarantine", evidence=None))
            mail.reason = f"{loop}; it answers a mail of Kontor's, so a person decides"
        else:
            _set_aside(mail, "ignored", "automatic", loop)
    else:
        decided = route(session, settings, routes.senders, parsed, mailbox.leads and routes.takes_leads)
        _take_route(mail, decided)
    session.add(mail)
    session.flush()
    if known is not None:
        known.stored.add(mail.message_id)
        if mail.sender:
            known.recent[mail.sender] = known.recent.get(mail.sender, 0) + 1
    if decided is not None:
        _act_on_route(session, runtime, routes, mail, decided, INTAKE)
    if mail.raw_sha256 is not None:  # the message as received, beside its attachments
        session.add(Document(owner_type="inbound_mail", owner_id=mail.id, customer_id=mail.customer_id,
                             filename=f"mail-{mail.id}.eml", content_type="message/rfc822", size=len(raw),
                             sha256=mail.raw_sha256, uploaded_by=INTAKE.username))
    for attachment in parsed.attachments:  # kept whatever became of the message, on its customer if known
        filename = clean(re.sub(r'[/\\"]', "_", attachment.filename or ""), 255) or "attachment.bin"
        session.add(Document(owner_type="inbound_mail", owner_id=mail.id, customer_id=mail.customer_id,
                             filename=filename,
                             content_type=clean(attachment.content_type, 100) or "application/octet-stream",
                             size=len(attachment.content),
                             sha256=store.put(attachment.content), uploaded_by=INTAKE.username))
    return mail, True


def _set_aside(mail: InboundMail, state: str, layer: str, reason: str) -> InboundMail:
    mail.state, mail.route, mail.reason = state, layer, reason[:500]
    return mail


def _mark_bouncing(session: Session, routes: MailRoutes, bounce: Automatic) -> bool:
    """Mark the contacts a bounce reports, if it proves it is about Kontor's mail: anyone can send a
    delivery report naming any address, but only Kontor and the receiving servers know the random
    Message-ID of a mail Kontor sent. So an address counts only if the bounce quotes the Message-ID
    of a mail Kontor sent to it (and, where the report names failed recipients, it is one of them)."""
    returned_to = _returned_to(session, bounce.returned_ids)
    failed = set(bounce.failed_addresses)
    addresses = tuple(a for a in returned_to if not failed or a in failed)
    if addresses:
        routes.senders.mark_bouncing(session, addresses)
    return bool(addresses)


def _returned_to(session: Session, message_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Where the mails a bounce names by Message-ID had been sent."""
    if not message_ids:
        return ()
    return tuple(dict.fromkeys(a.lower() for a in session.scalars(
        select(OutboxMail.to_address).where(OutboxMail.message_id.in_(message_ids)))))


def _looping(session: Session, settings: MailSettings, mail: InboundMail, known: ChunkKnowledge | None) -> bool:
    if not mail.sender:
        return False
    if known is not None:
        recent = known.recent.get(mail.sender, 0)
    else:
        recent = session.scalar(select(func.count()).select_from(InboundMail).where(
            InboundMail.sender == mail.sender, InboundMail.received_at > utcnow() - timedelta(hours=1)))
    return recent >= settings.inbound_loop_limit


def apply_route(session: Session, runtime: ProcessRuntime, routes: MailRoutes, mail: InboundMail, decided: Route,
                who: Principal) -> InboundMail:
    """Route a stored message (by hand, or again)."""
    _take_route(mail, decided)
    session.flush()
    return _act_on_route(session, runtime, routes, mail, decided, who)


def _take_route(mail: InboundMail, decided: Route) -> None:
    """The route's fields, and the state it will most likely end in (acting may still quarantine it)."""
    mail.route, mail.reason = decided.layer, (decided.reason or decided.review_reason or "")[:500] or None
    mail.evidence, mail.authentication = decided.evidence, decided.authentication
    mail.outbox_id, mail.customer_id, mail.contact_id = decided.outbox_id, decided.customer_id, decided.contact_id
    mail.record_type, mail.record_id = decided.record_type, decided.record_id
    mail.state = "quarantined" if decided.layer == "quarantine" else "routed"
    mail.delivered_message = reply_message_name(decided.record_type) \
        if decided.layer not in ("quarantine", "new_lead") and decided.record_type and decided.record_id is not None \
        else None


def _act_on_route(session: Session, runtime: ProcessRuntime, routes: MailRoutes, mail: InboundMail,
                  decided: Route, who: Principal) -> InboundMail:
    """What the route means: a lead, the BPMN message to the waiting process, a trace on the customer."""
    if decided.layer == "quarantine":
        return mail
    if decided.layer == "new_lead":
        mail.lead_id = routes.new_lead(session, who, mail)
        return mail
    if mail.delivered_message is not None:
        try:
            with session.begin_nested():
                correlate_message(session, runtime, who, mail.delivered_message,
                                  {f"{decided.record_type}_id": decided.record_id},
                                  data={"inbound_mail_id": mail.id, "from": mail.sender, "subject": mail.subject,
                                        "reply_text": mail.reply_text, "route": decided.layer,
                                        "evidence": decided.evidence, "review_reason": decided.review_reason},
                                  message_id=f"mail:{mail.message_id}")
        except (Conflict, ValidationFailed) as exc:
            mail.state, mail.delivered_message = "quarantined", None
            mail.reason = f"the process could not take it: {exc.message}"[:500]
            return mail
    if mail.customer_id is not None:
        routes.trace(session, mail.customer_id, "mail_received", who.username,
                     f"mail from {mail.sender}: {mail.subject}", "inbound_mail", mail.id, route=decided.layer,
                     params={"sender": mail.sender, "subject": mail.subject})
    return mail
