"""Received mail: every message is stored once (unique Message-ID, a content hash for those without),
with its raw source in the document store, the route it took and what it was delivered to."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base

# How a message found its way (the routing layers in order), or why it did not.
ROUTES = ("reply_token", "thread", "subject_tag", "sender", "new_lead", "quarantine", "automatic", "manual")
STATES = ("routed", "quarantined", "ignored")


class InboundMail(Base):
    __tablename__ = "inbound_mail"
    __table_args__ = (Index("ix_inbound_mail_state", "state", "received_at"),
                      Index("ix_inbound_mail_sender", "sender", "received_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(100))
    uid: Mapped[int | None]  # the IMAP UID it had when it was read
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))  # the raw source in the document store
    size: Mapped[int] = mapped_column(default=0)
    sender: Mapped[str | None] = mapped_column(String(254))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    recipients: Mapped[list] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None]  # its Date header
    in_reply_to: Mapped[list] = mapped_column(default=list)
    references: Mapped[list] = mapped_column(default=list)
    reply_text: Mapped[str] = mapped_column(Text, default="")
    automatic: Mapped[str | None] = mapped_column(String(20))  # auto_reply | bounce
    state: Mapped[str] = mapped_column(String(12))  # routed | quarantined | ignored
    route: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))  # why quarantined or ignored
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))  # the mail it answers
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    record_type: Mapped[str | None] = mapped_column(String(30))
    record_id: Mapped[int | None]
    delivered_message: Mapped[str | None] = mapped_column(String(100))  # the BPMN message it became
    # what the route rests on: "proof" (the signed reply token, a reference to a Message-ID Kontor
    # made) may move a process by itself; "claim" (subject tag, known sender, routed by hand) only
    # attaches the mail and asks a person
    evidence: Mapped[str | None] = mapped_column(String(10))
    # the receiving server's failed checks (Authentication-Results: DMARC, DKIM, SPF), if any
    authentication: Mapped[str | None] = mapped_column(String(300))
    defects: Mapped[list] = mapped_column(default=list)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    routed_by: Mapped[str | None] = mapped_column(String(100))  # who re-routed it by hand

    @property
    def carries_no_proof(self) -> bool:
        """A quarantined mail of no customer: nothing in it routed it (a valid reply token or a
        reference to a Message-ID Kontor made would have)."""
        return self.state == "quarantined" and self.customer_id is None and self.outbox_id is None
