"""Proof of possession that a received mail may quote back (a reply address with its signed token,
an offer's answer link, a Message-ID Kontor made), taken out of the text that staff read and the
process gets: reading a customer's reply must be no way to answer in the customer's name. The raw
message keeps it, for those who may edit the customer (as the customers module rules, registered
with MailRoutes.require_mail_reader)."""
from __future__ import annotations

import re

_REPLY_TOKEN = re.compile(r"\+[0-9]{1,12}-[a-z2-7]{24}(?=@)", re.IGNORECASE)
_ANSWER_LINK = re.compile(r"/o/[0-9]{1,12}\.[A-Za-z0-9_-]{20,40}\.[A-Za-z0-9_-]{24}")
_KONTOR_MESSAGE_ID = re.compile(r"kontor\.[0-9]{1,12}\.[0-9a-f]{16}@", re.IGNORECASE)

REMOVED = "[removed]"


def without_proof(text: str) -> str:
    text = _REPLY_TOKEN.sub(f"+{REMOVED}", text)
    text = _ANSWER_LINK.sub(f"/o/{REMOVED}", text)
    return _KONTOR_MESSAGE_ID.sub(f"kontor.{REMOVED}@", text)
