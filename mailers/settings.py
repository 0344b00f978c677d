"""Mail's settings: the SMTP server mail leaves through, the sender and reply addresses, the
outbox's retry policy and the IMAP mailboxes read for replies and leads. It builds on the core
section: reply tokens are signed with the core secret and inbound mail is stored in the data folder."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from kernel.settings import CoreSettings
from mailers.addresses import single_address


class MailboxConfig(BaseModel):
    """One IMAP mailbox Kontor reads. purpose "leads": unknown senders become leads."""
    name: str = Field(min_length=1, max_length=100)
    host: str = "127.0.0.1"
    port: int = Field(default=143, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str
    password: SecretStr
    folder: str = "INBOX"
    purpose: Literal["replies", "leads"] = "replies"


class MailSettings(CoreSettings):
    # Outbound mail (SMTP). smtp_security: "none", "starttls" or "tls" (implicit TLS, port 465).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_ca_file: Path | None = Field(default=None, description="PEM file of a private CA the SMTP server's "
                                                                "certificate is checked against")
    mail_from: str = Field(default="Kontor <vertrieb@kontor.localhost>", description="From of every mail")
    # Embedded mode: the local mail pair (SMTP on smtp_port delivering into Dovecot, IMAP on this port).
    local_imap_port: int = Field(default=8143, ge=1, le=65535)
    # Replies come back to <reply_local>+<signed token>@<reply_domain>.
    reply_local: str = Field(default="antwort", pattern=r"^[A-Za-z0-9._-]{1,30}$")
    reply_domain: str = Field(default="kontor.localhost", pattern=r"^[A-Za-z0-9.-]{1,200}$")
    # The outbox: attempts, then exponential backoff (base * 2**(attempt-1), capped), then dead letter.
    outbox_max_attempts: int = Field(default=6, ge=1, le=50)
    outbox_backoff_base_seconds: float = Field(default=60.0, ge=0)
    outbox_backoff_max_seconds: float = Field(default=6 * 3600.0, ge=0)
    outbox_batch_size: int = Field(default=50, ge=1, le=1000)
    outbox_lease_seconds: int = Field(default=300, ge=1)

    # Inbound mail: the mailboxes read over IMAP (KONTOR_MAILBOXES as a JSON list), the largest
    # message taken in whole, and how many messages one sender may send per hour before the rest
    # is ignored as a mail loop.
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    inbound_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    inbound_loop_limit: int = Field(default=30, ge=1)
    inbound_batch_size: int = Field(default=100, ge=1, le=1000)
    inbound_workers: int = Field(default=2, ge=1, le=8, description="threads taking in a mailbox's messages")
    mail_poll_seconds: float = Field(default=30.0, ge=1.0, description="how often the worker reads the mailboxes")

    @field_validator("mail_from")
    @classmethod
    def _one_mailbox(cls, value: str):
        single_address(value)  # AddressError (a ValueError) says why
        return value
