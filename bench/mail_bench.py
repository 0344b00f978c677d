"""Mail throughput against the real local servers: messages taken in from IMAP into the database
per second (routing included: replies by token, known senders, strangers to quarantine), and outbox
mail sent over SMTP per second."""
from __future__ import annotations

import tempfile
import uuid
from email.message import EmailMessage
from pathlib import Path

from imapclient import IMAPClient
from pydantic import SecretStr

from bench.common import stopwatch
from domain.customers.models import Contact, Customer
from kernel.principal import SYSTEM
from kontor.settings import MailboxConfig
from mailers.dispatch import send_due_mail
from mailers.imap_reader import read_mailbox
from mailers.local_servers import LocalMail
from mailers.outbox import Recipient, queue_mail


def _queue(kontor, count: int, to: str) -> list[tuple[str, str]]:
    """Queue `count` mails about bench tickets; (Message-ID, reply address) of each."""
    sent = []
    with kontor.transaction() as session:
        for n in range(count):
            row = queue_mail(session, kontor.settings, who=SYSTEM, template="notice", record=("bench_ticket", n),
                             recipient=Recipient(to), context={"subject": f"Ticket {n}", "text": "Bitte antworten.",
                                                               "sender_name": "Kontor", "salutation": None})
            sent.append((row.message_id, row.context["reply_address"]))
    return sent


def _known_senders(kontor, count: int) -> list[str]:
    """Contacts of as many customers (each writes a few messages: below the mail-loop cap)."""
    addresses = []
    with kontor.transaction() as session:
        for n in range(count):
            customer = Customer(number=f"B-{uuid.uuid4().hex[:8]}", name=f"Bench {n} GmbH", status="active",
                                country="DE", currency="EUR", tax_treatment="domestic", payment_days=14)
            session.add(customer)
            session.flush()
            addresses.append(f"einkauf{n}-{uuid.uuid4().hex[:6]}@bench.example.test")
            session.add(Contact(customer_id=customer.id, last_name="Einkauf", email=addresses[-1]))
    return addresses


def _message(n: int, to: str, sender: str, in_reply_to: str | None) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, f"AW: Ticket {n}"
    message["Message-ID"] = f"<bench.{uuid.uuid4().hex}@customer.example.test>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(f"Antwort {n}.\n\nAm 23.11.2026 schrieb Kontor:\n> Bitte antworten.\n")
    return message.as_bytes()


def mail_throughput(kontor, count: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="kontor-bench-mail-"))
    servers = LocalMail.start(folder)
    try:
        kontor.settings.smtp_port = servers.smtp.port
        customer_address = f"kunde-{uuid.uuid4().hex[:6]}@bench.example.test"
        sent = _queue(kontor, count, customer_address)
        with stopwatch() as sending:
            summary = send_due_mail(kontor.sessions, kontor.settings, limit=count)
        assert summary.outcomes.get("sent") == count, summary.as_dict()
        mailbox = f"{kontor.settings.reply_local}@{kontor.settings.reply_domain}"
        known = _known_senders(kontor, max(1, count // 20))
        with IMAPClient("127.0.0.1", servers.dovecot.imap_port, ssl=False) as client:
            client.login(mailbox, servers.dovecot.password)
            for n in range(count):
                kind = n % 4
                if kind in (0, 1):  # a reply found by its token (and by its thread)
                    raw = _message(n, sent[n][1], f"kunde{n}@bench.example.test", sent[n][0])
                elif kind == 2:  # a known contact writing anew
                    raw = _message(n, mailbox, known[n % len(known)], None)
                else:  # a stranger: quarantine
                    raw = _message(n, mailbox, f"fremd{n}@elsewhere.example.test", None)
                client.append("INBOX", raw)
        config = MailboxConfig(name="bench", port=servers.dovecot.imap_port, username=mailbox,
                               password=SecretStr(servers.dovecot.password))
        with stopwatch() as reading:
            taken = read_mailbox(kontor.sessions, kontor.runtime, kontor.settings, config, limit=count)
        assert sum(taken.outcomes.values()) == count, taken.as_dict()
        return {"messages": count, "sent_per_s": round(count / sending(), 1),
                "taken_in_per_s": round(count / reading(), 1), "outcomes": taken.outcomes}
    finally:
        servers.stop()
