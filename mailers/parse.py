"""Reading a received message without trusting it: broken MIME, unknown charsets, encoded-word
headers, HTML-only bodies and nested forwards give a ParsedMail with what could be read and the
problems found, never an exception."""
from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.errors import HeaderParseError
from email.header import decode_header
from email.headerregistry import Address
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# headers whose raw value ParsedMail.headers keeps (lower case): what mailers.classify looks at
CLASSIFYING_HEADERS = {"auto-submitted", "x-autoreply", "x-autorespond", "x-auto-response", "precedence",
                       "x-failed-recipients", "list-id", "list-unsubscribe"}


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedMail:
    message_id: str  # the header's, or one made from the content's hash when it has none
    has_own_message_id: bool
    sender: str | None  # lower-case address of From
    sender_name: str | None
    recipients: list[str]  # To, Cc and Delivered-To, lower case
    subject: str
    date: datetime | None
    in_reply_to: list[str]
    references: list[str]
    text: str  # the plain text, from the HTML part when there is no plain one
    headers: dict[str, str]  # lower-case name → raw value (first occurrence) of CLASSIFYING_HEADERS
    content_type: str
    # every Authentication-Results header (RFC 8601), as the receiving servers added them
    authentication_results: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    parts: list[Message] = field(default_factory=list)  # every MIME part, for bounce reports
    defects: list[str] = field(default_factory=list)


class _TextOfHtml(HTMLParser):
    """Text of an HTML body: block elements end lines, scripts and styles are dropped."""
    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote", "table", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 - a broken HTML body still yields its visible words
        return html.unescape(re.sub(r"<[^>]+>", " ", markup))
    lines = [" ".join(line.split()) for line in "".join(parser.chunks).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def decode_words(raw: str) -> str:
    """A header value with its RFC 2047 encoded words decoded; an unknown charset falls back to
    UTF-8, then Latin-1, so a word is never lost."""
    try:
        chunks = decode_header(raw)
    except (HeaderParseError, ValueError):
        return raw
    text = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            text.append(chunk)
            continue
        for candidate in (charset or "ascii", "utf-8", "latin-1"):
            try:
                text.append(chunk.decode(candidate))
                break
            except (LookupError, UnicodeDecodeError, ValueError):
                continue
    return "".join(text)


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):  # an email.header.Header for undecodable bytes
        value = str(value)
    return " ".join(decode_words(value).replace("\x00", "").split())


def _addresses(message: Message, *names: str) -> list[tuple[str, str]]:
    raw = [str(value) for name in names for value in (message.get_all(name) or [])]
    return [(" ".join(decode_words(n).split()), a.strip().lower()) for n, a in getaddresses(raw) if a and "@" in a]


def _decode(part: Message) -> str:
    """A text part's content; an unknown or lying charset falls back to UTF-8, then Latin-1."""
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "latin-1"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):  # ValueError: a NUL in the charset's name
            continue
    return payload.decode("utf-8", errors="replace")


def _message_ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")


def _own_parts(message: Message) -> list[Message]:
    """The message's MIME parts, not descending into attached messages (a forward stays one attachment)."""
    found = [message]
    if message.get_content_type() != "message/rfc822" and message.is_multipart():
        for child in message.get_payload():
            if isinstance(child, Message):
                found.extend(_own_parts(child) if child.get_content_type() != "message/rfc822" else [child])
    return found


def clean(text: str | None, limit: int) -> str | None:
    """Text fit for a header-derived column: no NUL or other control characters, at most `limit` long."""
    if text is None:
        return None
    return _CONTROL.sub(" ", text).strip()[:limit] or None


def content_id(raw: bytes) -> str:
    """The stand-in Message-ID of a message without one: its content's hash."""
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@kontor.invalid>"


def parse(raw: bytes) -> ParsedMail:
    """Never raises: a message the parser cannot take apart at all becomes its best-effort text with
    the failure as a defect."""
    try:
        return _parse(raw)
    except Exception as exc:  # noqa: BLE001 - RecursionError, OverflowError, whatever hostile input finds
        return ParsedMail(message_id=content_id(raw), has_own_message_id=False, sender=None, sender_name=None,
                          recipients=[], subject="", date=None, in_reply_to=[], references=[],
                          text=raw[:200_000].decode("utf-8", errors="replace").replace("\x00", ""), headers={},
                          content_type="application/octet-stream",
                          defects=[f"unparseable: {type(exc).__name__}: {str(exc)[:200]}"])


def _parse(raw: bytes) -> ParsedMail:
    # compat32: raw header strings, decoded here only where needed (the default policy parses every
    # header into objects, which costs more than the rest of the intake)
    message: Message = email.message_from_bytes(raw, policy=email.policy.compat32)
    defects = [type(d).__name__ for d in message.defects]
    parts = _own_parts(message)
    plain, markup, attachments = [], [], []
    for part in parts:
        defects.extend(type(d).__name__ for d in getattr(part, "defects", []))
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            continue
        content_type = part.get_content_type()
        try:
            disposition = part.get_content_disposition()
            filename = part.get_filename()
            filename = decode_words(filename) if filename else None
        except Exception:  # noqa: BLE001 - a broken header makes the part an unnamed attachment
            disposition, filename = "attachment", None
        if disposition == "attachment" or filename or content_type in ("application/ms-tnef", "message/rfc822"):
            content = part.get_payload(decode=True)
            if content is None and content_type == "message/rfc822":
                inner = part.get_payload()
                content = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
            attachments.append(Attachment(filename or ("winmail.dat" if content_type == "application/ms-tnef"
                                                       else "forwarded.eml" if content_type == "message/rfc822"
                                                       else "attachment.bin"), content_type, content or b""))
        elif content_type == "text/plain":
            plain.append(_decode(part))
        elif content_type == "text/html":
            markup.append(_decode(part))
    text = "\n\n".join(plain) if plain else "\n\n".join(html_to_text(m) for m in markup)
    own_id = _message_ids(_header(message, "Message-ID"))
    message_id = own_id[0] if own_id and len(own_id[0]) <= 250 and "\x00" not in own_id[0] else content_id(raw)
    senders = _addresses(message, "From")
    try:
        date = parsedate_to_datetime(_header(message, "Date")) if _header(message, "Date") else None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        date = None
    # the raw values of the few headers classification reads: parsing every header is costly
    headers, authentication_results = {}, []
    for key, value in message.items():
        name = key.lower()
        if name in CLASSIFYING_HEADERS and name not in headers:
            headers[name] = " ".join(str(value).replace("\x00", "").split())
        elif name == "authentication-results" and len(authentication_results) < 20:
            authentication_results.append(" ".join(str(value).replace("\x00", "").split())[:2000])
    return ParsedMail(
        message_id=message_id, has_own_message_id=message_id == (own_id[0] if own_id else None),
        sender=clean(senders[0][1], 254) if senders else None,
        sender_name=clean(senders[0][0], 200) if senders else None,
        recipients=sorted({c for c in (clean(a, 254) for _, a in _addresses(
            message, "To", "Cc", "Delivered-To", "X-Original-To")) if c}),
        subject=clean(_header(message, "Subject"), 500) or "", date=date,
        in_reply_to=_message_ids(_header(message, "In-Reply-To")),
        references=_message_ids(_header(message, "References")),
        text=text.replace("\x00", ""), headers=headers, content_type=message.get_content_type(),
        authentication_results=authentication_results,
        attachments=attachments, parts=parts, defects=defects)


def as_address(value: str) -> str | None:
    """The addr-spec of a header value (angle brackets allowed), lower case, or None."""
    try:
        address = Address(addr_spec=value.strip().strip("<>").strip()).addr_spec.lower()
    except Exception:  # noqa: BLE001 - HeaderParseError and friends: not an address
        return None
    return address if "@" in address and len(address) <= 254 and "\x00" not in address else None
