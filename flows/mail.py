"""Prefect flows for mail: sending due outbox mail in batches (one log line per mail: INFO sent,
WARNING retry, ERROR dead letter) and reading the configured mailboxes (one line per message), so ops
see every attempt in Prefect. The `*_round` functions are the work itself: the worker calls them
without a flow run while Prefect cannot be reached (flows.rounds)."""
from __future__ import annotations

from imapclient.exceptions import IMAPClientError
from prefect import flow, get_run_logger

from kontor.bootstrap import current
from mailers.dispatch import send_due_mail
from mailers.imap_reader import read_mailbox


def outbox_round(kontor, log, limit: int | None = None) -> dict:
    summary = send_due_mail(kontor.sessions, kontor.settings, limit, log=log, templates=kontor.mail_templates).as_dict()
    log.info("outbox: %s", summary)
    return summary


def mailboxes_round(kontor, log) -> list[dict]:
    """Every configured mailbox, one after the other; a mailbox that cannot be reached is an ERROR line
    and the others are still read."""
    summaries = []
    for config in kontor.settings.mailboxes:
        try:
            summary = read_mailbox(kontor.sessions, kontor.runtime, kontor.settings, kontor.mail_routes, config,
                                   log=log).as_dict()
        except (OSError, IMAPClientError) as exc:
            log.error("mailbox %s at %s:%s cannot be read: %s", config.name, config.host, config.port, exc)
            summary = {"mailbox": config.name, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one mailbox's failure must not keep the others unread
            log.exception("mailbox %s failed", config.name)
            summary = {"mailbox": config.name, "error": f"{type(exc).__name__}: {exc}"}
        summaries.append(summary)
    log.info("mailboxes: %s", summaries)
    return summaries


@flow(name="send-outbox", log_prints=False)
def send_outbox(limit: int | None = None) -> dict:
    return outbox_round(current(), get_run_logger(), limit)


@flow(name="read-mailboxes", log_prints=False)
def read_mailboxes() -> list[dict]:
    """Every configured mailbox, one after the other; a mailbox that cannot be reached is an ERROR line
    and the others are still read."""
    return mailboxes_round(current(), get_run_logger())
