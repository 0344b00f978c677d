"""The transactional outbox. The business change that decides to send writes an `outbox` row in its
own transaction (`queue_mail`); the send flow claims due rows with a lease, sends them and records
each outcome as soon as the server answered: sent, retry with exponential backoff, or dead letter
after the last attempt (ops see it and queue it again after a fix).

Every row gets its Message-ID and its signed reply token when it is queued, so a retry sends the very
same message. SMTP offers no exactly-once hand-over: a crash after the server accepted a message and
before `sent` was recorded sends it again with the same Message-ID, which mail clients fold into one;
since `sent` is recorded right after each acceptance, that is at most the one mail in flight.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from kernel.clock import utcnow
from kernel.db import Base, transaction
from kernel.errors import Forbidden, NotFound, ValidationFailed
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal
from mailers import tokens
from mailers.settings import MailSettings
from runtime import queue
from runtime.models import QueueItem
from runtime.workers import CLAIMANT

PURPOSES = ("transactional", "marketing")
STATES = ("pending", "sending", "sent", "dead", "suppressed")


class OutboxMail(QueueItem, Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)  # one mail per business decision
    purpose: Mapped[str] = mapped_column(String(20))  # transactional | marketing
    template: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(2))
    context: Mapped[dict] = mapped_column(default=dict)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    record_type: Mapped[str | None] = mapped_column(String(30))  # what the mail is about, e.g. offer
    record_id: Mapped[int | None]
    subject_tag: Mapped[str | None] = mapped_column(String(40))  # e.g. OFF-2026-0012, shown as [..]
    attachments: Mapped[list] = mapped_column(default=list)  # document ids
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    reply_token: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12), default="pending")  # one of STATES
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str | None = None
    language: str = "de"
    customer_id: int | None = None
    contact_id: int | None = None
    marketing_block: str | None = None  # why no marketing mail may go to this recipient; None: it may


@dataclass
class ClaimedMail:
    id: int
    attempt: int


@dataclass(frozen=True)
class MailPolicy:
    """The outbox settings a flow works with."""
    max_attempts: int
    backoff_base_seconds: float
    backoff_max_seconds: float
    lease_seconds: int
    per_mail_seconds: float = 0.0  # added to the lease for every mail of the batch


def queue_mail(session: Session, settings: MailSettings, *, who: Principal,
               recipient: Recipient, template: str, context: dict, purpose: str = "transactional",
               dedupe_key: str | None = None, record: tuple[str, int] | None = None,
               subject_tag: str | None = None, attachments: list[int] | None = None,
               in_reply_to: str | None = None, references: list[str] | None = None) -> OutboxMail:
    """Queue one mail in the caller's transaction. With a dedupe_key, queueing the same decision again
    returns the row already queued. Marketing mail to a recipient who must not get any (no contact,
    no consent) is kept as `suppressed` with the reason (visible, never sent); transactional mail
    still goes out. `in_reply_to` and `references` (Message-IDs) thread the mail under earlier ones
    (RFC 5322 3.6.4): kept with the row, written as headers when it is sent; an ID that is not of the
    form <left@right> is left out."""
    if purpose not in PURPOSES:
        raise ValidationFailed("unknown mail purpose", [{"field": "purpose", "message": f"one of {PURPOSES}"}])
    if dedupe_key is not None:
        existing = session.scalar(select(OutboxMail).where(OutboxMail.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    row = OutboxMail(dedupe_key=dedupe_key, purpose=purpose, template=template, language=recipient.language,
                     context=context, to_address=recipient.address, to_name=recipient.name,
                     customer_id=recipient.customer_id, contact_id=recipient.contact_id,
                     record_type=record[0] if record else None, record_id=record[1] if record else None,
                     subject_tag=subject_tag, attachments=list(attachments or []),
                     message_id=f"<pending.{secrets.token_hex(16)}>", reply_token="", created_by=who.username)
    thread = thread_of(in_reply_to, references)
    if thread:
        row.context = {**context, "thread": thread}
    if purpose == "marketing" and recipient.marketing_block:
        row.state, row.last_error = "suppressed", recipient.marketing_block
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        if dedupe_key is None:
            raise
        return session.scalar(select(OutboxMail).where(OutboxMail.dedupe_key == dedupe_key))
    key = settings.signing_key()
    # short enough never to be folded (a folded Message-ID comes back with a leading space from some parsers)
    row.message_id = f"<kontor.{row.id}.{secrets.token_hex(8)}@{settings.reply_domain}>"
    row.reply_token = tokens.sign(key, row.id)
    row.context = {**row.context, "reply_address": tokens.reply_address(key, row.id, settings.reply_local,
                                                                         settings.reply_domain)}
    session.flush()
    return row


MESSAGE_ID = re.compile(r"<[^<>\s@]{1,200}@[^<>\s@]{1,200}>")


def thread_of(in_reply_to: str | None, references: list[str] | None) -> dict:
    """The threading headers of a mail as stored with it: {"in_reply_to": id, "references": [ids]}."""
    kept = [m.strip() for m in references or [] if m and MESSAGE_ID.fullmatch(m.strip())]
    parent = in_reply_to.strip() if in_reply_to and MESSAGE_ID.fullmatch(in_reply_to.strip()) else None
    parent = parent or (kept[-1] if kept else None)
    if parent and parent not in kept:
        kept.append(parent)
    thread: dict = {}
    if parent:
        thread["in_reply_to"] = parent
    if kept:
        thread["references"] = list(dict.fromkeys(kept))[-20:]
    return thread


def _describe(row: OutboxMail) -> dict:
    return {"operation": f"mail {row.template} to {row.to_address}"[:200]}


OUTBOX = queue.register(queue.Queue(
    "outbox", OutboxMail, queue.States(ready="pending", claimed="sending", done="sent", dead="dead"),
    describe=_describe))


def _policy(policy: MailPolicy) -> queue.Policy:
    return queue.Policy(lease_seconds=policy.lease_seconds, backoff_max_seconds=policy.backoff_max_seconds,
                        max_attempts=policy.max_attempts, backoff_base_seconds=policy.backoff_base_seconds,
                        per_item_lease_seconds=policy.per_mail_seconds, dead_when_claimed_exhausted=True)


def has_due_mail(session: Session) -> bool:
    return queue.has_due(session, OUTBOX)


def claim_mail(factory: sessionmaker, policy: MailPolicy, limit: int,
               claimed_by: str | None = CLAIMANT) -> list[ClaimedMail]:
    """Due rows become `sending` with a lease, named as this worker's claims (by default the worker
    present in this process, if any); a sender that dies leaves claims that are free once it is
    known to be gone, or once their lease runs out. A row whose senders died on every attempt is
    a dead letter."""
    return [ClaimedMail(claim.id, claim.attempt)
            for claim in queue.claim(factory, OUTBOX, _policy(policy), limit, claimed_by=claimed_by)]


def record_sent(factory: sessionmaker, claim: ClaimedMail) -> str:
    with transaction(factory) as session:
        return "sent" if queue.record_done(session, OUTBOX, claim.id, claim.attempt, sent_at=utcnow()) else "lost"


def record_failure(factory: sessionmaker, policy: MailPolicy, claim: ClaimedMail, error: str,
                   permanent: bool = False) -> str:
    """A temporary failure waits base * 2**(attempt-1) seconds (capped); the last attempt, or a
    permanent refusal (5xx, a broken template), is a dead letter (runtime.queue)."""
    with transaction(factory) as session:
        outcome, _ = queue.record_failure(session, OUTBOX, _policy(policy), claim.id, claim.attempt, error[:4000],
                                          permanent=permanent)
        return outcome


def release_mail(factory: sessionmaker, claims: list[ClaimedMail]) -> None:
    """Claims of a round that broke off, still `sending` with no outcome: free for the next round now."""
    queue.release(factory, OUTBOX, [(claim.id, claim.attempt) for claim in claims])


def requeue(session: Session, who: Principal, outbox_id: int) -> OutboxMail:
    """Ops send a dead letter again after a fix: fresh attempts, due now, the same Message-ID (the
    outbox's name for retrying its incident, runtime.queue)."""
    if not who.has_any("ops"):
        raise Forbidden("only ops queue a mail again")
    return queue.retry_item(session, OUTBOX.name, outbox_id, who)


OUTBOX_SORTS = {"id": OutboxMail.id, "created_at": OutboxMail.created_at, "next_attempt_at": OutboxMail.next_attempt_at,
                "attempts": OutboxMail.attempts}


def _require_reader(who: Principal) -> None:
    if who.is_portal or not who.has_any("ops", "manager"):
        raise Forbidden("the outbox is for ops and managers")


def shown_message_id(who: Principal, message_id: str) -> str:
    """A sent mail's Message-ID is proof: a reply that names it moves the record's process. Ops, who
    change no records, see it without its random part; managers see it whole."""
    if who.has_any("manager"):
        return message_id
    return re.sub(r"^<kontor\.([0-9]+)\.[0-9a-f]+@", r"<kontor.\1.[removed]@", message_id)


def readable_mail(session: Session, who: Principal, outbox_id: int) -> OutboxMail:
    _require_reader(who)
    row = session.get(OutboxMail, outbox_id)
    if row is None:
        raise NotFound(f"mail {outbox_id} not found")
    return row


def list_mail(session: Session, who: Principal, page: PageRequest, state: str | None = None):
    _require_reader(who)
    statement = select(OutboxMail)
    if state:
        statement = statement.where(OutboxMail.state == state)
    return page_of(session, statement, page, OUTBOX_SORTS, OutboxMail.id)
