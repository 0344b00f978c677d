"""From an outbox row to the message on the wire: subject, plain-text and HTML parts rendered from
Jinja2 templates in the recipient's language (HTML autoescaped, undefined names an error), the
stored Message-ID, a Reply-To carrying the signed reply token, and the attachments. The address
headers are written by mailers.addresses: each names exactly one mailbox, whatever its name holds."""
from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from mailers.addresses import AddressError, set_address_header, single_address
from mailers.outbox import OutboxMail
from mailers.parse import clean

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("de", "en")

_environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True,
                           autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False))

# (filename, content type, content) of a stored document
AttachmentLoader = Callable[[int], tuple[str, str, bytes]]


class ComposeError(Exception):
    """The mail cannot be built (a template is missing or broken): retrying will not help."""


def template_names() -> set[str]:
    return {p.name.split(".")[0] for p in TEMPLATES.glob("*.*.txt") if not p.name.endswith(".subject.txt")}


def render(template: str, language: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a template in a language."""
    if language not in LANGUAGES:
        raise ComposeError(f"no mail language {language!r}; Kontor writes {', '.join(LANGUAGES)}")
    try:
        subject = _environment.get_template(f"{template}.{language}.subject.txt").render(context)
        text = _environment.get_template(f"{template}.{language}.txt").render(context)
        html = _environment.get_template(f"{template}.{language}.html").render(context)
    except TemplateError as exc:
        raise ComposeError(f"template {template}.{language}: {type(exc).__name__}: {exc}") from exc
    return " ".join(subject.split()), text, html


def one_line(value: str | None) -> str:
    """A header value on one line: CR, LF and other control characters become spaces (no header
    injection, and no header the mail library refuses to write)."""
    return " ".join((clean(value, 998) or "").split())


def compose(mail: OutboxMail, mail_from: str, load_attachment: AttachmentLoader) -> EmailMessage:
    subject, text, html = render(mail.template, mail.language, mail.context)
    tag = one_line(mail.subject_tag)
    if tag and f"[{tag}]" not in subject:
        subject = f"{subject} [{tag}]"
    message = EmailMessage()
    try:
        sender_name, sender = single_address(mail_from)
        set_address_header(message, "From", sender, sender_name)
        set_address_header(message, "To", mail.to_address, mail.to_name)
        message["Subject"] = one_line(subject)
        message["Date"] = format_datetime(mail.created_at)
        message["Message-ID"] = mail.message_id
        set_address_header(message, "Reply-To", mail.context["reply_address"])
    except AddressError as exc:
        raise ComposeError(f"an address header cannot be written: {exc}") from None
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for document_id in mail.attachments:
        try:
            filename, content_type, content = load_attachment(document_id)
        except (KeyError, OSError) as exc:
            raise ComposeError(f"attachment {document_id} cannot be read: {exc}") from exc
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(content, maintype=one_line(maintype) or "application",
                               subtype=one_line(subtype) or "octet-stream",
                               filename=one_line(filename).replace("\\", "_").replace('"', "_") or "attachment")
    return message
