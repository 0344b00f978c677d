"""Reading a test mailbox back over IMAP (the real Dovecot of the `mail_servers` fixture)."""
from __future__ import annotations

import email
import email.policy
import smtplib
import time
import uuid
from email.message import EmailMessage

from imapclient import IMAPClient


def inbox(servers, address: str) -> list[EmailMessage]:
    """Every message in an address's INBOX, oldest first, parsed."""
    with IMAPClient("127.0.0.1", servers.dovecot.imap_port, ssl=False, timeout=10) as client:
        client.login(address, servers.dovecot.password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        fetched = client.fetch(uids, ["RFC822"]) if uids else {}
    return [email.message_from_bytes(fetched[uid][b"RFC822"], policy=email.policy.default) for uid in sorted(fetched)]


def wait_for_mail(servers, address: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
    """The inbox once it holds at least `count` messages (LMTP delivery is quick, not instant); fails
    the test when it does not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        messages = inbox(servers, address)
        if len(messages) >= count:
            return messages
        if time.monotonic() > deadline:
            raise AssertionError(f"{address} holds {len(messages)} mail(s) after {timeout} s, expected at least "
                                 f"{count}: {[m['Subject'] for m in messages]}")
        time.sleep(0.1)


def send_smtp(mail, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", mail.smtp.port, timeout=10) as smtp:
        smtp.send_message(message)


def answer(received: EmailMessage, text: str) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = received["To"]
    reply["To"] = received["Reply-To"]
    reply["Subject"] = f"AW: {received['Subject']}"
    reply["In-Reply-To"] = received["Message-ID"]
    reply["References"] = received["Message-ID"]
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@customer.example.test>"
    quoted = "\n".join(f"> {line}" for line in received.get_body(("plain",)).get_content().splitlines())
    reply.set_content(f"{text}\n\nAm 23.11.2026 um 10:00 schrieb Rita:\n{quoted}\n")
    return reply
