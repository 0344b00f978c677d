"""From an outbox row to the message on the wire: subject, plain-text and HTML parts rendered from
Jinja2 templates in the recipient's language (HTML autoescaped, undefined names an error), the
stored Message-ID, a Reply-To carrying the signed reply token, In-Reply-To/References where the
mail answers earlier ones, and the attachments. The address
headers are written by mailers.addresses: each names exactly one mailbox, whatever its name holds.

The mail package brings only its own templates (the plain notice); a business module registers the
folder of its mails' templates (MailTemplates.register, one MailTemplates held by the Kontor object),
so a new module brings its own mails. Names stay flat, as outbox rows store them ("offer"): a folder
that brings a name another already has is refused rather than shadowed."""
from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from mailers.addresses import AddressError, set_address_header, single_address
from mailers.outbox import OutboxMail, thread_of
from mailers.parse import clean

TEMPLATES = Path(__file__).resolve().parent / "templates"  # the mail package's own
LANGUAGES = ("de", "en")
PARTS = ("subject.txt", "txt", "html")

# (filename, content type, content) of a stored document
AttachmentLoader = Callable[[int], tuple[str, str, bytes]]


class ComposeError(Exception):
    """The mail cannot be built (a template is missing or broken): retrying will not help."""


def _names_in(folder: Path) -> set[str]:
    return {p.name.split(".")[0] for p in folder.glob("*.*.txt") if not p.name.endswith(".subject.txt")}


class MailTemplates:
    """The mail templates Kontor renders: the mail package's own and those of the folders registered."""

    def __init__(self):
        self._folders: list[Path] = []
        self._names: dict[str, Path] = {}
        self.register(TEMPLATES)

    def register(self, folder: Path) -> None:
        """A module's folder of mail templates (`<name>.<language>.subject.txt|txt|html`). Refused if a
        template lacks a language or a part (found at start-up, not as a dead letter), or if it brings a
        name that another folder has."""
        folder = Path(folder).resolve()
        if folder in self._folders:
            return
        names = _names_in(folder)
        missing = [f"{n}.{lang}.{part}" for n in sorted(names) for lang in LANGUAGES for part in PARTS
                   if not (folder / f"{n}.{lang}.{part}").is_file()]
        if missing:
            raise ValueError(f"mail templates in {folder} lack {', '.join(missing)}")
        taken = sorted(n for n in names if n in self._names)
        if taken:
            raise ValueError(f"mail templates in {folder} are named as in {self._names[taken[0]]}: {', '.join(taken)}")
        self._folders.append(folder)
        self._names.update(dict.fromkeys(names, folder))
        self._environment = Environment(
            loader=ChoiceLoader([FileSystemLoader(f) for f in self._folders]), undefined=StrictUndefined,
            keep_trailing_newline=True, autoescape=select_autoescape(enabled_extensions=("html",),
                                                                     default_for_string=False))

    def names(self) -> set[str]:
        return set(self._names)

    def render(self, template: str, language: str, context: dict) -> tuple[str, str, str]:
        """(subject, plain text, HTML) of a template in a language."""
        if language not in LANGUAGES:
            raise ComposeError(f"no mail language {language!r}; Kontor writes {', '.join(LANGUAGES)}")
        try:
            subject = self._environment.get_template(f"{template}.{language}.subject.txt").render(context)
            text = self._environment.get_template(f"{template}.{language}.txt").render(context)
            html = self._environment.get_template(f"{template}.{language}.html").render(context)
        except TemplateError as exc:
            raise ComposeError(f"template {template}.{language}: {type(exc).__name__}: {exc}") from exc
        return " ".join(subject.split()), text, html


OWN_TEMPLATES = MailTemplates()  # the mail package's own only: what a caller gets that names no other


def template_names() -> set[str]:
    """The mail package's own templates."""
    return OWN_TEMPLATES.names()


def render(template: str, language: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one of the mail package's own templates in a language."""
    return OWN_TEMPLATES.render(template, language, context)


def one_line(value: str | None) -> str:
    """A header value on one line: CR, LF and other control characters become spaces (no header
    injection, and no header the mail library refuses to write)."""
    return " ".join((clean(value, 998) or "").split())


def compose(mail: OutboxMail, mail_from: str, load_attachment: AttachmentLoader,
            templates: MailTemplates = OWN_TEMPLATES) -> EmailMessage:
    subject, text, html = templates.render(mail.template, mail.language, mail.context)
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
        thread = thread_of((mail.context.get("thread") or {}).get("in_reply_to"),
                           (mail.context.get("thread") or {}).get("references"))  # checked again: stored data
        if thread.get("in_reply_to"):
            message["In-Reply-To"] = thread["in_reply_to"]
        if thread.get("references"):
            message["References"] = " ".join(thread["references"])
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
