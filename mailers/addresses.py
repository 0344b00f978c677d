"""Address headers (From, To, Reply-To) written so that every reader finds exactly the addresses
Kontor meant, whatever the display name holds: commas, quotes, backslashes, angle brackets, `@`,
encoded-word look-alikes, line breaks, any script, any length.

Why not `formataddr` or `email.headerregistry.Address`: the standard library's folder (Python
3.11) takes a quoted display name that does not fit on one line apart and writes its pieces without
the quotes, so `"Fred, attacker@evil.example, <long name>" <kunde@…>` goes out as three addresses.
It also writes the decoded text of an encoded word in a display name bare. So Kontor renders the
header itself, already folded, and stores it unchanged (`Message.set_raw`): a display name is plain
words, one quoted string that fits on its line, or RFC 2047 encoded words (base64, UTF-8); a fold
only ever falls between two tokens, never inside quotes. Lines stay within the 78 characters of
the SMTP policy, so the library has no reason to fold the header again."""
from __future__ import annotations

import base64
import re
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy

LINE = 78  # email.policy.SMTP's max_line_length: longer lines are folded again by the library
_PLAIN_WORD = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+\Z")  # RFC 5322 atext
_ENCODED_WORD_BYTES = 45  # 60 base64 characters: an encoded word of 72 characters


class AddressError(ValueError):
    """Not one valid address."""


def checked_addr_spec(addr_spec: str) -> str:
    """The address as the mail library reads it; an error unless it is exactly one valid addr-spec."""
    if not addr_spec or any(ord(c) < 32 or ord(c) == 127 for c in addr_spec):
        raise AddressError(f"{addr_spec!r} is not an e-mail address")
    try:
        address = Address(addr_spec=addr_spec)
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise AddressError(f"{addr_spec!r} is not an e-mail address: {exc}") from None
    if not address.username or not address.domain or address.addr_spec != addr_spec:
        raise AddressError(f"{addr_spec!r} is not a plain e-mail address (local-part@domain)")
    return addr_spec


def single_address(value: str) -> tuple[str, str]:
    """(display name, addr-spec) of a header value naming exactly one mailbox, e.g. the From setting
    `Kontor Vertrieb <vertrieb@example.com>`; an error for none, several or a group."""
    try:
        header = default_policy.header_factory("From", value)
        addresses = header.addresses
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise AddressError(f"{value!r} is not one e-mail address: {exc}") from None
    if len(addresses) != 1 or header.defects or header.groups[0].display_name is not None:
        raise AddressError(f"{value!r} is not exactly one e-mail address")
    return addresses[0].display_name, checked_addr_spec(addresses[0].addr_spec)


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 encoded words (UTF-8, base64) for text; no character is split between two words."""
    words, chunk = [], b""
    for char in text:
        data = char.encode("utf-8", errors="replace")
        if len(chunk) + len(data) > _ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _name_tokens(name: str, room: int) -> list[str]:
    """The display name as tokens separated by folding white space: plain words when it is only
    those, else one quoted string if that fits in `room`, else encoded words."""
    words = name.split(" ")
    if all(_PLAIN_WORD.match(word) and "=?" not in word for word in words):
        if all(len(word) <= room for word in words):
            return words
    elif name.isascii() and name.isprintable() and "=?" not in name and len(_quoted(name)) <= room:
        return [_quoted(name)]
    return _encoded_words(name)


def _fold(header: str, tokens: list[str]) -> str:
    """Tokens joined by spaces, a line break before a token that would pass LINE (the first line
    also holds `Header: `; it stays empty when not even the first token fits there)."""
    lines = [""]
    for token in tokens:
        taken = len(header) + 2 if len(lines) == 1 else 0
        if taken + len(lines[-1]) + bool(lines[-1]) + len(token) > LINE and (lines[-1] or taken):
            lines.append("")
        lines[-1] = f"{lines[-1]} {token}" if lines[-1] else token
    return "\n ".join(lines)


def address_header(header: str, addr_spec: str, name: str | None = None) -> str:
    """The value of an address header naming one mailbox, folded: at most LINE characters a line.
    The name's white space (line breaks and control characters included) becomes single spaces.
    An address too long to share a line with anything is written alone, without its name."""
    addr_spec = checked_addr_spec(addr_spec)
    name = " ".join("".join(c if c.isprintable() else " " for c in (name or "")).split())
    angle = f"<{addr_spec}>"
    if not name or 1 + len(angle) > LINE:
        return addr_spec
    return _fold(header, [*_name_tokens(name, LINE - 1), angle])


def set_address_header(message: EmailMessage, header: str, addr_spec: str, name: str | None = None) -> None:
    """Put the header into the message as rendered here; the library's own folding never sees it."""
    del message[header]
    message.set_raw(header, address_header(header, addr_spec, name))
