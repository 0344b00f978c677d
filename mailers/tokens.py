"""Signed reply tokens: `<reply_local>+<token>@<reply_domain>` leads a customer's answer back to the
mail it answers. A token is the outbox id and an HMAC of it, in lower-case letters and digits only,
because mail systems may change the case of an address's local part."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

_TOKEN = re.compile(r"^([0-9]{1,12})-([a-z2-7]{24})$")


def _mac(key: str, outbox_id: int) -> str:
    purpose_key = hmac.new(key.encode(), b"kontor reply token", hashlib.sha256).digest()
    digest = hmac.new(purpose_key, str(outbox_id).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:15]).decode().lower()  # 120 bits, 24 characters


def sign(key: str, outbox_id: int) -> str:
    return f"{outbox_id}-{_mac(key, outbox_id)}"


def verify(key: str, token: str) -> int | None:
    """The outbox id a token was made for, or None for anything forged, cut or unknown."""
    match = _TOKEN.match(token.strip().lower())
    if match is None:
        return None
    outbox_id = int(match.group(1))
    return outbox_id if hmac.compare_digest(match.group(2), _mac(key, outbox_id)) else None


def reply_address(key: str, outbox_id: int, local: str, domain: str) -> str:
    return f"{local}+{sign(key, outbox_id)}@{domain}"


def token_in_address(address: str, local: str, domain: str) -> str | None:
    """The token part of a reply address (`local+token@domain`), or None if it is not one."""
    address = address.strip().lower()
    prefix, suffix = f"{local.lower()}+", f"@{domain.lower()}"
    if address.startswith(prefix) and address.endswith(suffix):
        return address[len(prefix):-len(suffix)] or None
    return None
