"""The Kontor worker: watches the index for due timers, ready service jobs, due outbox mail and
uploaded bank statements, and runs the matching Prefect flow in this process when there is work (a
flow run costs about 0.1 s, so no empty runs are made). Every run is a flow run in Prefect, with its
task runs and logs, while Prefect answers; while it does not, the same work runs without a flow run
and is recorded for a catch-up report (flows.rounds)."""
from __future__ import annotations

import logging
import threading
import time

from domain.payments.imports import has_due_statements
from domain.settings import company_today
from flows.rounds import Rounds
from kernel.clock import utcnow
from kontor.bootstrap import Kontor, set_current
from mailers.outbox import has_due_mail
from runtime.jobs import has_ready_jobs
from runtime.timers import due_timer_ids, next_due_at
from runtime.workers import present

log = logging.getLogger("kontor.worker")
HOUSEKEEPING_SECONDS = 600


FLOW_CLIENT_RETRIES = 1


def quiet_flow_settings():
    """A sync flow run waits for its heartbeat thread (about 1 s) unless heartbeats are off. And
    Prefect's client retries a lost connection 5 times (2 + 4 + … + 32 s): a flow call that meets a
    Prefect that just died would hold the round for a minute. One retry (2 s) is enough: if Prefect
    is still gone, the round runs without a flow run (flows.rounds)."""
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
                               PREFECT_CLIENT_MAX_RETRIES: FLOW_CLIENT_RETRIES})


def work_once(kontor: Kontor, rounds: Rounds | None = None) -> dict:
    """One round: fire what is due, run what is ready. Returns what it did."""
    from flows.mail import outbox_round, send_outbox
    from flows.service_jobs import run_service_jobs, service_jobs_round
    from flows.statement_imports import import_bank_statements, statement_imports_round
    from flows.timers import fire_timers, timers_round

    rounds = rounds or Rounds(kontor)
    with kontor.transaction() as session:
        timers_due = bool(due_timer_ids(session, 1))
        jobs_ready = has_ready_jobs(session)
        mail_due = has_due_mail(session)
        statements_due = has_due_statements(session)
    did = {"timers": None, "jobs": None, "mail": None, "statements": None}
    if timers_due:
        did["timers"] = rounds.run("timers", fire_timers, timers_round)
    if jobs_ready:
        did["jobs"] = rounds.run("service-jobs", run_service_jobs, service_jobs_round)
    if mail_due:
        did["mail"] = rounds.run("outbox", send_outbox, outbox_round)
    if statements_due:
        did["statements"] = rounds.run("statement-imports", import_bank_statements, statement_imports_round)
    return did


def run_worker(kontor: Kontor, stop: threading.Event, housekeeping: bool = True,
               rounds: Rounds | None = None, helper: bool = False) -> None:
    """The loop: until stop is set, look for work every poll interval and run the flows for it.
    Housekeeping (expiring buffered messages) runs here too unless a served deployment does it, and
    so do the daily runs (the periodic invoicing run, then the dunning run), once per company day,
    at the first round of the day. A helper (flows/worker_processes.py) only claims work: the
    mailboxes are read by the main loop alone."""
    from flows.dunning import dunning_round, run_dunning
    from flows.invoice_runs import invoice_run_round, run_invoicing
    from flows.mail import mailboxes_round, read_mailboxes
    from flows.timers import expire_messages, housekeeping_round

    set_current(kontor)
    rounds = rounds or Rounds(kontor)
    poll = kontor.settings.worker_poll_seconds
    last_housekeeping = last_mail_read = 0.0
    last_daily = None  # the company day of the last daily runs (dunning)
    if not helper:
        log.info("worker started; polling every %.1f s", poll)
    with present(kontor.sessions, kontor.settings), quiet_flow_settings():
        while not stop.is_set():
            wait = poll
            try:
                did = work_once(kontor, rounds)
                # Work done: look again at once (more may have fallen due meanwhile). Work found but
                # none done (a timer whose instance fails): a full poll interval, no busy loop. Else
                # sleep until the next timer is due, at most a poll interval (jobs come any time).
                done = (did["jobs"] or {}).get("claimed", 0) + (did["timers"] or {}).get("fired", 0) \
                    + (did["mail"] or {}).get("sent", 0) + (did["statements"] or {}).get("imported", 0)
                stuck = not done and any(did[kind] is not None for kind in did)
                wait = 0.0 if done else poll if stuck else _idle_seconds(kontor, poll)
                if kontor.settings.mailboxes and not helper and \
                        time.monotonic() - last_mail_read > kontor.settings.mail_poll_seconds:
                    last_mail_read = time.monotonic()
                    rounds.run("mailboxes", read_mailboxes, mailboxes_round)
                if housekeeping and time.monotonic() - last_housekeeping > HOUSEKEEPING_SECONDS:
                    rounds.run("housekeeping", expire_messages, housekeeping_round)
                    last_housekeeping = time.monotonic()
                if housekeeping and company_today(kontor.settings) != last_daily:
                    last_daily = company_today(kontor.settings)
                    rounds.run("invoice-run", run_invoicing, invoice_run_round)
                    rounds.run("dunning", run_dunning, dunning_round)
            except Exception:  # noqa: BLE001 - the worker outlives a bad round; Prefect or offline_run has the details
                log.exception("worker round failed")
            if wait:
                stop.wait(wait)
    log.info("worker stopped")


def _idle_seconds(kontor: Kontor, poll: float) -> float:
    with kontor.transaction() as session:
        due = next_due_at(session)
    if due is None:
        return poll
    return min(poll, max(0.0, (due - utcnow()).total_seconds()))


def start_worker_thread(kontor: Kontor, housekeeping: bool = True,
                        rounds: Rounds | None = None) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(kontor, stop, housekeeping, rounds), name="kontor-worker",
                              daemon=True)
    thread.start()
    return thread, stop
