"""Every address header Kontor writes (From, To, Reply-To) reads back as exactly the intended
mailbox, whatever the display name holds, with both of the standard library's readers and in the
envelope aiosmtplib derives from the headers; one mail goes through the real SMTP server."""
from __future__ import annotations

import email
import email.policy
import uuid
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.utils import getaddresses

import pytest
from aiosmtplib.email import extract_recipients, extract_sender, flatten_message

from kernel.principal import SYSTEM
from mailers.addresses import LINE, address_header, single_address
from mailers.compose import ComposeError, compose
from mailers.dispatch import send_due_mail
from mailers.outbox import OutboxMail, Recipient, queue_mail
from tests.mailbox import inbox, wait_for_mail

TO = "kunde@example.test"
REPLY_TO = "antwort+abc123.def@kontor.localhost"
SENDER = "vertrieb@kontor.localhost"

HOSTILE_NAMES = {
    "issue_probe": "Fred, attacker@evil.example, " + "Wolfeschlegelsteinhausenbergerdorff" * 3,
    "comma_short": "Müller, Jörg",
    "quotes": 'Anna "the boss" O\'Brien',
    "backslashes": "Back\\slash \\\" \\\\ end\\",
    "angle_brackets": "Mallory <attacker@evil.example>",
    "semicolons_groups": "list: attacker@evil.example; other@evil.example;",
    "at_sign": "support@evil.example",
    "address_list": "a@evil.example, b@evil.example, c@evil.example",
    "crlf": "Anna\r\nBcc: victim@evil.example\r\nX-Evil: 1",
    "nul_and_controls": "An\x00na\x07 Mül\x1bler",
    "non_ascii": "Zoë Þórsdóttir-Łukasiewicz 株式会社 😀",
    "non_ascii_specials": "Jörg Müller, attacker@evil.example, " + "ä" * 160,
    "very_long_ascii": "x" * 230,
    "very_long_words": " ".join(["Verylongname,"] * 30),
    "encoded_word": "=?utf-8?q?Fred=2C_attacker=40evil=2Eexample?=",
    "encoded_words_long": "=?utf-8?b?RnJlZCwgYXR0YWNrZXJAZXZpbC5leGFtcGxlLA==?= " * 6,
    "comment": "(admin@evil.example) Anna",
    "only_specials": ',;:<>@"\\()[].' * 20,
    "bidi_override": "Anna \u202eelpmaxe.live@rekcatta",
    "empty": "",
    "blank": " \t ",
}


def intended_name(name: str) -> str:
    """What the reader should see: white space and control characters as single spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in name).split())


def rfc2047_decoded(raw_name: str) -> str:
    """A display name as an RFC 2047 reader shows it (white space between encoded words ignored)."""
    return str(make_header(decode_header(raw_name)))


def outbox_row(to_name: str | None, to_address: str = TO) -> OutboxMail:
    return OutboxMail(id=1, template="notice", language="en", to_address=to_address, to_name=to_name,
                      subject_tag=None, attachments=[], message_id=f"<{uuid.uuid4().hex}@kontor.localhost>",
                      created_at=datetime(2026, 12, 5, tzinfo=timezone.utc),
                      context={"subject": "Hello", "text": "Text", "sender_name": "Kontor", "salutation": None,
                               "reply_address": REPLY_TO})


def no_attachment(_document_id):
    raise AssertionError("the test mail has no attachments")


def assert_reads_back(message, expected: dict[str, tuple[str, str]]) -> None:
    """Each header names exactly its (display name, address), as sent over SMTP with and without SMTPUTF8."""
    assert extract_recipients(message) == [expected["To"][1]]
    assert extract_sender(message) == expected["From"][1]
    for utf8 in (False, True):
        wire = flatten_message(message, utf8=utf8)
        head = wire.split(b"\r\n\r\n", 1)[0]
        for header in expected:
            [line_block] = [block for block in head.split(b"\r\n") if block.startswith(header.encode() + b":")]
            assert len(line_block) <= LINE, line_block  # the library had no reason to fold it again
        as_compat = email.message_from_bytes(wire, policy=email.policy.compat32)
        as_default = email.message_from_bytes(wire, policy=email.policy.default)
        for header, (name, address) in expected.items():
            found = getaddresses(as_compat.get_all(header))
            assert [a for _, a in found] == [address], (header, found, head)
            assert rfc2047_decoded(found[0][0]) == intended_name(name), (header, found)
            parsed = as_default[header].addresses
            assert [a.addr_spec for a in parsed] == [address], (header, parsed, head)
            # CPython's reader keeps the space between two adjacent encoded words that RFC 2047 drops
            assert parsed[0].display_name.replace(" ", "") == intended_name(name).replace(" ", "")


@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_a_hostile_recipient_name_gives_exactly_one_recipient(kind):
    name = HOSTILE_NAMES[kind]
    message = compose(outbox_row(name), f"Kontor <{SENDER}>", no_attachment)
    assert_reads_back(message, {"From": ("Kontor", SENDER), "To": (name, TO), "Reply-To": ("", REPLY_TO)})


def quoted_from(name: str) -> str:
    """A From setting as an administrator writes it: the name in quotes, then the address."""
    return '"' + intended_name(name).replace("\\", "\\\\").replace('"', '\\"') + f'" <{SENDER}>'


@pytest.mark.parametrize("kind", [kind for kind, name in HOSTILE_NAMES.items() if "=?" not in name])
def test_a_hostile_sender_name_from_the_settings_gives_exactly_one_sender(kind):
    mail_from = quoted_from(HOSTILE_NAMES[kind])
    name, _ = single_address(mail_from)
    assert name == intended_name(HOSTILE_NAMES[kind])
    message = compose(outbox_row("Anna Müller"), mail_from, no_attachment)
    assert_reads_back(message, {"From": (name, SENDER), "To": ("Anna Müller", TO), "Reply-To": ("", REPLY_TO)})


def test_plain_names_stay_readable():
    assert address_header("To", TO, "Anna Mueller") == f"Anna Mueller <{TO}>"
    assert address_header("To", TO, "Mallory <x@evil.example>") == f'"Mallory <x@evil.example>" <{TO}>'
    assert address_header("To", TO, None) == TO


def test_an_address_too_long_to_share_a_line_is_written_without_its_name():
    long_address = "k" * 60 + "@" + "d" * 60 + ".example"
    message = compose(outbox_row(HOSTILE_NAMES["issue_probe"], to_address=long_address), f"Kontor <{SENDER}>",
                      no_attachment)
    assert extract_recipients(message) == [long_address]
    wire = email.message_from_bytes(flatten_message(message), policy=email.policy.compat32)
    assert getaddresses(wire.get_all("To")) == [("", long_address)]


@pytest.mark.parametrize("address", ["a@evil.example, b@evil.example", "<a@evil.example>", "a@b.example (x)",
                                     "a@b.example\r\nBcc: c@evil.example", "no-at-sign", "a@b; c@d", ""])
def test_a_recipient_address_that_is_not_one_mailbox_is_not_composed(address):
    with pytest.raises(ComposeError, match="address"):
        compose(outbox_row("Anna", to_address=address), f"Kontor <{SENDER}>", no_attachment)


@pytest.mark.parametrize("mail_from", ["Müller, Schmidt <x@example.test>", "a@example.test, b@example.test",
                                       "group: a@example.test;", "nobody", quoted_from(HOSTILE_NAMES["encoded_word"])])
def test_a_from_setting_that_is_not_one_mailbox_is_not_composed(mail_from):
    with pytest.raises(ComposeError, match="address"):
        compose(outbox_row("Anna"), mail_from, no_attachment)


def test_the_probes_name_reaches_only_the_contact_over_smtp(kontor, mail):
    to = f"kunde-{uuid.uuid4().hex[:8]}@example.test"
    attacker = f"attacker-{uuid.uuid4().hex[:8]}@example.test"
    name = f"Fred, {attacker}, " + "Wolfeschlegelsteinhausenbergerdorff" * 3
    with kontor.transaction() as session:
        queue_mail(session, kontor.settings, who=SYSTEM, template="notice", recipient=Recipient(to, name),
                   context={"subject": "Ihre Anfrage", "text": "Danke.", "sender_name": "Rita", "salutation": None})
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "sent": 1}
    [received] = wait_for_mail(mail, to)
    assert [a.addr_spec for a in received["To"].addresses] == [to]
    assert inbox(mail, attacker) == []
