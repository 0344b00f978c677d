"""Prefect flows for mail: sending due outbox mail in batches (one log line per mail: INFO sent,
WARNING retry, ERROR dead letter) and reading the configured mailboxes (one line per message), so ops
see every attempt in Prefect. The `*_round` functions are the work itself: the worker calls them
without a flow run while Prefect cannot be reached (flows.rounds)."""
from __future__ import annotations

from imapclient.exceptions import IMAPClientError
from prefect import flow, get_run_logger

from flows.run_labels import label_this_run, summary_name, tags_of
from kontor.bootstrap import current
from mailers.dispatch import send_due_mail
from mailers.imap_reader import read_mailbox


def outbox_round(kontor, log, limit: int | None = None) -> dict:
    sent = send_due_mail(kontor.sessions, kontor.settings, limit, log=log, templates=kontor.mail_templates)
    if sent.claimed:
        label_this_run(summary_name("mails", sent.templates, sent.records),
                       tags_of(sent.records, *(f"template:{template}" for template in sent.templates)))
    summary = sent.as_dict()
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
    if summaries:
        label_this_run("read mailboxes: " + "; ".join(_read(summary) for summary in summaries),
                       tags_of(f"mailbox:{summary['mailbox']}" for summary in summaries))
    log.info("mailboxes: %s", summaries)
    return summaries


def _read(summary: dict) -> str:
    counts = ", ".join(f"{count} {outcome}" for outcome, count in summary.items()
                       if outcome not in ("mailbox", "error"))
    return f"{summary['mailbox']} " + ("unreachable" if "error" in summary else counts or "nothing new")


@flow(name="send-outbox", flow_run_name="outbox", log_prints=False)
def send_outbox() -> dict:
    """Send the due outbox mail; the run is renamed after the mails and tagged with their records."""
    return outbox_round(current(), get_run_logger())


@flow(name="read-mailboxes", flow_run_name="read mailboxes", log_prints=False)
def read_mailboxes() -> list[dict]:
    """Every configured mailbox, one after the other; a mailbox that cannot be reached is an ERROR line
    and the others are still read."""
    return mailboxes_round(current(), get_run_logger())
