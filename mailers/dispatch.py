"""One round of the outbox: claim due mail, compose it, send it over one SMTP connection, record each
outcome as soon as the server answered. Composing failures (a broken template, a lost attachment) are
dead letters at once. Should the round break off (the database gone), what it did not finish is
released for the next round at once rather than held for the lease."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker

from kernel.db import transaction
from kernel.documents import DocumentStore
from kernel.transient import once_more_if_disconnected
from mailers.compose import OWN_TEMPLATES, ComposeError, MailTemplates, compose
from mailers.outbox import MailPolicy, OutboxMail, claim_mail, record_failure, record_sent, release_mail
from mailers.settings import MailSettings
from mailers.smtp import send_messages


@dataclass
class DispatchSummary:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    templates: list[str] = field(default_factory=list)  # of each claimed mail, in order
    records: list[str] = field(default_factory=list)  # what the mails are about, `offer:OFF-2026-0001`, each once

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def about(self, row: OutboxMail) -> None:
        self.templates.append(row.template)
        if row.record_type:
            record = f"{row.record_type}:{row.subject_tag or f'#{row.record_id}'}"
            if record not in self.records:
                self.records.append(record)

    def as_dict(self) -> dict:
        return {"claimed": self.claimed, **self.outcomes}


def policy_of(settings: MailSettings) -> MailPolicy:
    # A batch is sent one mail after the other, each SMTP command with its own timeout: the lease
    # covers the slowest batch a server can cause, so that no second sender takes a mail still in it.
    return MailPolicy(settings.outbox_max_attempts, settings.outbox_backoff_base_seconds,
                      settings.outbox_backoff_max_seconds, settings.outbox_lease_seconds,
                      per_mail_seconds=4 * settings.smtp_timeout_seconds)


def send_due_mail(factory: sessionmaker, settings: MailSettings, limit: int | None = None,
                  log: logging.Logger | logging.LoggerAdapter | None = None,
                  templates: MailTemplates = OWN_TEMPLATES) -> DispatchSummary:
    """`templates`: Kontor's (kontor.mail_templates, with every module's); the mail package's own alone
    render nothing but the plain notice, and a mail of another template becomes a dead letter."""
    log = log or logging.getLogger("kontor.mail")
    policy = policy_of(settings)
    claims = claim_mail(factory, policy, limit or settings.outbox_batch_size)
    summary = DispatchSummary(claimed=len(claims))
    store = DocumentStore.under(settings.data_dir)
    ready = []
    for claim in claims:
        problem = None
        with transaction(factory) as session:
            row = session.get(OutboxMail, claim.id)
            to = row.to_address
            summary.about(row)
            try:
                message = compose(row, settings.mail_from, lambda document_id: store.load(session, document_id),
                                  templates)
            except ComposeError as exc:
                problem = str(exc)
            except Exception as exc:  # noqa: BLE001 - whatever the mail library refuses: this mail, not the batch
                problem = f"the mail cannot be built: {type(exc).__name__}: {exc}"
        if problem is not None:
            log.error("mail %s cannot be built: %s", claim.id, problem)
            summary.count(record_failure(factory, policy, claim, problem, permanent=True))
            continue
        ready.append((claim, message, to))

    def answered(index: int, result) -> None:
        """Each outcome recorded the moment the server answered (a crash then re-sends at most the one
        mail in flight)."""
        claim, message, to = ready[index]
        if result.ok:
            outcome = once_more_if_disconnected(lambda: record_sent(factory, claim), log, "a mail's outcome")
            log.info("mail %s to %s sent as %s", claim.id, to, message["Message-ID"])
        else:
            outcome = once_more_if_disconnected(
                lambda: record_failure(factory, policy, claim, result.error or "unknown", result.permanent), log,
                "a mail's outcome")
            level = logging.ERROR if outcome == "dead" else logging.WARNING
            log.log(level, "mail %s to %s attempt %s: %s (%s)", claim.id, to, claim.attempt, result.error, outcome)
        summary.count(outcome)

    try:
        send_messages(settings, [message for _, message, _ in ready], answered)
    except BaseException:
        _release_quietly(factory, claims, log)
        raise
    return summary


def _release_quietly(factory, claims, log) -> None:
    try:
        release_mail(factory, claims)
    except Exception as exc:  # noqa: BLE001 - the claims then wait for their worker to be gone
        log.warning("the unfinished mail of a broken round could not be released: %s", exc)
