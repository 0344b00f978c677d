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
        return Automatic("bounce", "delivery status report (RFC 3464)", tuple(_dsn_failures(mail)))
    if mail.sender and DAEMONS.match(mail.sender) and BOUNCE_SUBJECT.search(mail.subject):
        return Automatic("bounce", f"non-delivery notice from {mail.sender}")
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
            a for a in (as_address(x) for x in headers.get("x-failed-recipients", "").split(",")) if a))
    return None
