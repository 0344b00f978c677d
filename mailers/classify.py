"""Mail that no person wrote: auto-replies (RFC 3834 and the common vendor headers) and bounces
(RFC 3464 delivery status reports, and the plain ones mailer daemons still send). Such mail never
starts or advances a process; a bounce names the addresses that failed."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailers.parse import ParsedMail, as_address

AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk", "list"}
DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(r"undeliver|delivery (status notification|failure)|returned mail|unzustellbar|"
                            r"nicht zugestellt|failure notice", re.IGNORECASE)


@dataclass(frozen=True)
class Automatic:
    kind: str  # auto_reply | bounce
    reason: str
    failed_addresses: tuple[str, ...] = field(default=())
    returned_ids: tuple[str, ...] = field(default=())  # Message-IDs of the mail that came back


_RETURNED_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)


def _returned_ids(mail: ParsedMail) -> tuple[str, ...]:
    """The Message-IDs a bounce quotes from the returned mail (its headers part, or its text)."""
    found = list(mail.in_reply_to) + list(mail.references)
    for part in mail.parts:
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
            payload = part.get_payload()
            text = payload if isinstance(payload, str) else "".join(str(p) for p in payload or [])
            found.extend(_RETURNED_ID.findall(text[:100_000]))
    found.extend(_RETURNED_ID.findall(mail.text[:100_000]))
    return tuple(dict.fromkeys(found))[:20]


def _dsn_failures(mail: ParsedMail) -> list[str]:
    failed = []
    for part in mail.parts:
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
            if action.startswith("failed") and ";" in recipient:
                # `rfc822; user@host` or `rfc822; <user@host>`
                address = as_address(recipient.split(";", 1)[1])
                if address:
                    failed.append(address)
    return failed


def classify(mail: ParsedMail) -> Automatic | None:
    """None for mail a person wrote; otherwise what kind of automatic mail it is and why."""
    headers = mail.headers
    is_report = mail.content_type == "multipart/report" or any(
        p.get_content_type() == "message/delivery-status" for p in mail.parts)
    if is_report:
        return Automatic("bounce", "delivery status report (RFC 3464)", tuple(_dsn_failures(mail)),
                         _returned_ids(mail))
    if mail.sender and DAEMONS.match(mail.sender) and BOUNCE_SUBJECT.search(mail.subject):
        return Automatic("bounce", f"non-delivery notice from {mail.sender}", (), _returned_ids(mail))
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Automatic("auto_reply", f"Auto-Submitted: {auto_submitted}")
    for name in ("x-autoreply", "x-autorespond", "x-auto-response"):
        if name in headers:
            return Automatic("auto_reply", f"{name} header")
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return Automatic("auto_reply", f"Precedence: {precedence}")
    if headers.get("x-failed-recipients"):
        return Automatic("bounce", "X-Failed-Recipients header", tuple(
            a for a in (as_address(x) for x in headers.get("x-failed-recipients", "").split(",")) if a),
            _returned_ids(mail))
    return None
