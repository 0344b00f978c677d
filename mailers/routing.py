"""Where a received message belongs, decided in fixed layers, the first that matches wins:
signed reply token → In-Reply-To/References matched to sent Message-IDs → subject tag such as
[OFF-2026-0012] → sender matched to a known contact → new lead (the leads mailbox only) →
quarantine. The first three find the mail it answers, and with it the record and the customer.

What a route rests on is its evidence. Only proof of possession, the signed reply token or a
reference to a Message-ID that Kontor made unguessably, may move a process by itself ("proof").
A subject tag and a known sender are claims anyone can forge ("claim"): the mail is attached to its
record and a person decides. A subject tag counts at all only from the recipient of that mail or a
contact of its customer; from anyone else it waits in quarantine. A message whose receiving server
reports a failed DMARC, DKIM or SPF check is never proof, whatever it carries.

Who is a known sender, and who a contact of a customer, the module that keeps the contacts answers
(mailers.routes.Senders, registered at start-up); the order of the layers and what each proves stay here."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailers import tokens
from mailers.authentication import failed_checks
from mailers.outbox import OutboxMail
from mailers.parse import ParsedMail
from mailers.routes import Senders
from mailers.settings import MailSettings

SUBJECT_TAG = re.compile(r"\[([A-Z]{2,5}-\d{4}-\d{1,8}(?:-\d{1,3})?)\]")  # OFF-2026-0012, revision 2: OFF-2026-0012-2


PROOF_LAYERS = ("reply_token", "thread")


@dataclass(frozen=True)
class Route:
    layer: str  # reply_token | thread | subject_tag | sender | new_lead | quarantine | manual
    outbox_id: int | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    record_type: str | None = None
    record_id: int | None = None
    reason: str | None = None
    evidence: str | None = None  # proof | claim, for a route to a record or customer
    authentication: str | None = None  # the receiving server's failed checks
    review_reason: str | None = None  # why a person has to decide what the mail means

    @property
    def is_proof(self) -> bool:
        return self.evidence == "proof"


def _answering(layer: str, sent: OutboxMail, review_reason: str | None = None) -> Route:
    return Route(layer, outbox_id=sent.id, customer_id=sent.customer_id, contact_id=sent.contact_id,
                 record_type=sent.record_type, record_id=sent.record_id,
                 evidence="proof" if layer in PROOF_LAYERS else "claim", review_reason=review_reason)


def _by_token(session: Session, settings: MailSettings, mail: ParsedMail) -> OutboxMail | None:
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


def _speaks_for(session: Session, senders: Senders, sent: OutboxMail, sender: str | None) -> bool:
    """Whether the sender is the one the mail went to, or a contact of its customer."""
    if not sender:
        return False
    if sender == sent.to_address.lower():
        return True
    if sent.customer_id is None:
        return False
    return senders.is_contact_of(session, sent.customer_id, sender)


def route(session: Session, settings: MailSettings, senders: Senders, mail: ParsedMail, leads_mailbox: bool) -> Route:
    """`leads_mailbox`: unknown senders become leads (a leads mailbox, and a module that takes them)."""
    decided = _route(session, settings, senders, mail, leads_mailbox)
    failed = failed_checks(mail.authentication_results)
    if failed is None:
        return decided
    if decided.evidence is None:
        return replace(decided, authentication=failed)
    return replace(decided, evidence="claim", authentication=failed, review_reason=(
        f"the receiving server's checks of the sender failed ({failed}): the mail may not come from "
        f"{mail.sender or 'whom it names'}"))


def manual(sent: OutboxMail | None, who: str, customer_id: int | None = None) -> Route:
    """A route a person chose: a claim, whoever chose it."""
    reason = f"routed by hand by {who}"
    if sent is None:
        return Route("manual", customer_id=customer_id, evidence="claim", review_reason=reason)
    return replace(_answering("manual", sent), review_reason=reason)


def _route(session: Session, settings: MailSettings, senders: Senders, mail: ParsedMail, leads_mailbox: bool) -> Route:
    sent = _by_token(session, settings, mail)
    if sent is not None:
        return _answering("reply_token", sent)
    sent = _by_thread(session, mail)
    if sent is not None:
        return _answering("thread", sent)
    sent = _by_subject_tag(session, mail)
    if sent is not None:
        if _speaks_for(session, senders, sent, mail.sender):
            return _answering("subject_tag", sent, review_reason=(
                f"found by the subject tag [{sent.subject_tag}] from {mail.sender}; a subject and a sender "
                "can be forged, so the mail proves nothing by itself"))
        # numbers in subjects are easy to guess: a stranger's mail waits for a person to decide
        return Route("quarantine", outbox_id=sent.id, customer_id=sent.customer_id, record_type=sent.record_type,
                     record_id=sent.record_id, reason=f"subject tag [{sent.subject_tag}] from {mail.sender}, who is "
                                                      "not a contact of the customer it was sent to")
    if mail.sender:
        contacts = senders.contacts_with(session, mail.sender)  # (customer id, contact id), by contact id
        customers = {customer_id for customer_id, _ in contacts}
        if len(customers) == 1:
            return Route("sender", customer_id=contacts[0][0], contact_id=contacts[0][1], evidence="claim",
                         review_reason=f"found by its sender {mail.sender}, which can be forged")
        if len(customers) > 1:
            return Route("quarantine", reason=f"the sender is a contact of {len(customers)} customers: "
                                              f"{', '.join(str(c) for c in sorted(customers))}")
    if leads_mailbox:
        return Route("new_lead")
    return Route("quarantine", reason="no reply token, no known thread or subject tag, unknown sender")
