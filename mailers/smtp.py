"""Hands composed messages to the SMTP server with aiosmtplib, one connection per batch. Outcomes per
message: sent, a temporary failure (connection, timeout, 4xx: try again later) or a permanent one
(5xx: the server will never take it)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from mailers.settings import MailSettings


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False
    error: str | None = None


def _client(settings: MailSettings) -> aiosmtplib.SMTP:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port,
                           username=settings.smtp_username or None, password=password,
                           use_tls=settings.smtp_security == "tls",
                           start_tls=True if settings.smtp_security == "starttls" else False,
                           cert_bundle=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
                           timeout=settings.smtp_timeout_seconds)


def _refusal(exc: aiosmtplib.SMTPResponseException) -> SendResult:
    return SendResult(False, permanent=500 <= exc.code < 600, error=f"SMTP {exc.code}: {exc.message}")


class _Results(list):
    """The results so far; each is handed to `answered` the moment it is known."""

    def __init__(self, answered: Callable[[int, SendResult], None] | None):
        super().__init__()
        self.answered = answered

    def append(self, result: SendResult) -> None:
        super().append(result)
        if self.answered is not None:
            self.answered(len(self) - 1, result)

    def extend(self, results) -> None:
        for result in results:
            self.append(result)


async def _send_all(settings: MailSettings, messages: list[EmailMessage], answered=None) -> list[SendResult]:
    smtp = _client(settings)
    results = _Results(answered)
    try:
        await smtp.connect()
    except aiosmtplib.SMTPAuthenticationError as exc:
        results.extend([SendResult(False, error=f"SMTP login refused: {exc.code} {exc.message}")] * len(messages))
        return list(results)
    except (aiosmtplib.SMTPException, OSError) as exc:
        results.extend([SendResult(False, error=f"SMTP server not reachable: {type(exc).__name__}: {exc}")]
                       * len(messages))
        return list(results)
    try:
        for message in messages:
            try:
                errors, _ = await smtp.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                results.append(SendResult(False, permanent=all(500 <= r.code < 600 for r in exc.recipients),
                                          error="; ".join(f"{r.recipient}: {r.code} {r.message}"
                                                          for r in exc.recipients)))
            except aiosmtplib.SMTPResponseException as exc:
                results.append(_refusal(exc))
            except (aiosmtplib.SMTPException, OSError) as exc:
                # the connection broke: this and every later message of the batch try again later
                error = f"SMTP connection lost: {type(exc).__name__}: {exc}"
                results.extend([SendResult(False, error=error)] * (len(messages) - len(results)))
                break
            else:
                results.append(SendResult(True) if not errors else SendResult(
                    False, error="; ".join(f"{r}: {e.code} {e.message}" for r, e in errors.items())))
    finally:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
    return list(results)


def send_messages(settings: MailSettings, messages: list[EmailMessage],
                  answered: Callable[[int, SendResult], None] | None = None) -> list[SendResult]:
    """Send in order over one connection; one result per message, in the same order. `answered`
    (index, result) is called as soon as each result is known, before the next message goes out
    (so that a message the server accepted is recorded before the next is sent)."""
    if not messages:
        return []
    return asyncio.run(_send_all(settings, messages, answered))
