"""kill -9 of `kontor worker` (a real subprocess) in the middle of service jobs, of due timers and of
an outbox batch, then a new worker: every job completes exactly once, every timer fires once, one
audit row per kind and instance, no mail is lost and at most the one in flight goes out twice (with
the same Message-ID, read back over IMAP), and the dead worker's work runs again within 30 s of
the new worker's start. Each kill is made to land mid-batch: the test waits until the database
shows some items done and others claimed by the worker. On SQLite and PostgreSQL."""
from __future__ import annotations

import collections
import time
import uuid

import pytest

from kernel.principal import SYSTEM
from mailers.outbox import Recipient, queue_mail
from runtime.instances import start_instance
from tests.crash_support import (
    ConnectionDropper,
    WithholdingRelay,
    WorkerProcess,
    repeated_audit,
    rows,
    scalar,
    wait_until,
)
from tests.mailbox import wait_for_mail

pytestmark = pytest.mark.usefixtures("prefect")

RECOVERY_SECONDS = 30  # the target: the dead worker's unfinished work runs again within this of a new start
STARTUP_SECONDS = 90  # a worker's first claim on a busy machine (imports, migrations, Prefect deployments)
AUDIT_KINDS = ("job_completed", "job_failed", "incident_opened", "timer_fired")


def start_many(kontor, count: int, **data) -> list[int]:
    ids = []
    for first in range(0, count, 50):
        with kontor.transaction() as session:
            for n in range(first, min(count, first + 50)):
                instance, _ = start_instance(session, kontor.runtime, SYSTEM, "demo_request",
                                             {"request_id": f"R-{n}-{uuid.uuid4().hex[:6]}", **data})
                ids.append(instance.id)
    return ids


def claimed_by(kontor, table: str, state: str, worker: str) -> int:
    return scalar(kontor, f"SELECT count(*) FROM {table} WHERE state = :state AND claimed_by LIKE :worker",
                  state=state, worker=f"{worker}:%")


def recovered_within(kontor, stranded: list[int], sql_done: str, worker: WorkerProcess) -> tuple[float, float]:
    """Seconds from the new worker's start until every stranded item is done, and of them the
    seconds since the worker was present (its start-up done: its row in `worker`)."""
    listed = ", ".join(map(str, stranded))
    present = []

    def done() -> bool:
        if not present and scalar(kontor, "SELECT count(*) FROM worker WHERE pid = :pid", pid=worker.process.pid):
            present.append(time.monotonic())
        return scalar(kontor, f"{sql_done} AND id IN ({listed})") == len(stranded)

    wait_until(done, STARTUP_SECONDS + RECOVERY_SECONDS, f"the dead worker's {len(stranded)} items done again",
               worker, every=0.05)
    finished = time.monotonic()
    return finished - worker.started, finished - (present[0] if present else worker.started)


@pytest.mark.parametrize("restarted_as", ["same-worker", "another-worker"])
def test_a_worker_killed_amid_service_jobs(kontor, tmp_path, restarted_as):
    count = 200
    ids = start_many(kontor, count, amount=100)
    first = WorkerProcess(kontor, tmp_path / "worker-a", "crash-a", job_batch_size=20).start()
    try:
        wait_until(lambda: scalar(kontor, "SELECT count(*) FROM service_job WHERE state = 'done'") >= 20
                   and claimed_by(kontor, "service_job", "running", "crash-a") >= 2,
                   STARTUP_SECONDS, "some jobs done and others claimed by the worker", first, every=0.01)
    finally:
        first.kill()
    stranded = [row.id for row in rows(kontor, "SELECT id FROM service_job WHERE state = 'running'")]
    assert stranded, "the kill should land while a batch was claimed"
    done_before = scalar(kontor, "SELECT count(*) FROM service_job WHERE state = 'done'")
    assert 0 < done_before < count

    again = (tmp_path / "worker-a", "crash-a") if restarted_as == "same-worker" else (tmp_path / "worker-b", "crash-b")
    second = WorkerProcess(kontor, *again, job_batch_size=20).start()
    try:
        recovery, since_present = recovered_within(
            kontor, stranded, "SELECT count(*) FROM service_job WHERE state = 'done'", second)
        wait_until(lambda: scalar(kontor, "SELECT count(*) FROM service_job WHERE state <> 'done'") == 0,
                   60, "every job done", second, every=0.1)
    finally:
        second.stop()
    print(f"\n{kontor.engine.dialect.name}, {restarted_as}: {len(stranded)} stranded jobs done again "
          f"{recovery:.1f} s after the new worker started ({since_present:.1f} s after its start-up)")
    assert recovery < RECOVERY_SECONDS
    assert scalar(kontor, "SELECT count(*) FROM service_job") == count
    assert rows(kontor, "SELECT count(DISTINCT instance_id), count(*) FROM audit_event "
                        "WHERE kind = 'job_completed'")[0] == (count, count)
    assert {row[0] for row in rows(kontor, "SELECT instance_id FROM audit_event WHERE kind = 'job_completed'")} \
        == set(ids)
    assert repeated_audit(kontor, AUDIT_KINDS) == []
    assert scalar(kontor, "SELECT count(*) FROM incident") == 0
    # the stranded jobs ran once more (a second attempt); the others were never taken twice
    assert scalar(kontor, f"SELECT count(*) FROM service_job WHERE attempts = 2 AND id IN "
                          f"({', '.join(map(str, stranded))})") == len(stranded)


def test_a_worker_killed_amid_due_timers(kontor, tmp_path):
    count = 200
    ids = start_many(kontor, count, amount=5000, reminder_after="PT0.5S")
    reminders = "SELECT count(*) FROM timer WHERE spec_name = 'Boundary_review_reminder'"
    assert scalar(kontor, reminders) == count
    time.sleep(0.6)
    first = WorkerProcess(kontor, tmp_path / "worker-a", "crash-a").start()
    try:
        wait_until(lambda: scalar(kontor, "SELECT count(*) FROM audit_event WHERE kind = 'timer_fired'") >= 20,
                   STARTUP_SECONDS, "some timers fired", first, every=0.01)
    finally:
        first.kill()
    left = scalar(kontor, reminders)
    assert 0 < left < count, "the kill should land while timers were being fired"

    second = WorkerProcess(kontor, tmp_path / "worker-a", "crash-a").start()
    try:
        wait_until(lambda: scalar(kontor, reminders) < left, STARTUP_SECONDS + RECOVERY_SECONDS,
                   "the new worker firing timers", second, every=0.05)
        recovery = time.monotonic() - second.started
        wait_until(lambda: scalar(kontor, reminders) == 0, 120, "every due timer fired", second, every=0.1)
        all_fired = time.monotonic() - second.started
    finally:
        second.stop()
    print(f"\n{kontor.engine.dialect.name}: timers fire again {recovery:.1f} s after the new worker started; "
          f"the {left} left all fired after {all_fired:.1f} s")
    assert recovery < RECOVERY_SECONDS
    assert rows(kontor, "SELECT count(DISTINCT instance_id), count(*) FROM audit_event "
                        "WHERE kind = 'timer_fired'")[0] == (count, count)
    assert {row[0] for row in rows(kontor, "SELECT instance_id FROM audit_event WHERE kind = 'timer_fired'")} \
        == set(ids)
    assert repeated_audit(kontor, AUDIT_KINDS) == []


def test_a_worker_killed_amid_an_outbox_batch_resends_only_the_mail_in_flight(kontor, mail, tmp_path):
    count, in_flight = 12, 5
    to = f"kunde-{uuid.uuid4().hex[:8]}@example.test"
    with kontor.transaction() as session:
        queued = [queue_mail(session, kontor.settings, who=SYSTEM, recipient=Recipient(to, "Anna Müller"),
                             template="notice", context={"subject": f"Nachricht {n}", "text": "x",
                                                         "sender_name": "R", "salutation": None}).id
                  for n in range(count)]
    with WithholdingRelay(mail.dovecot.lmtp_port, hold_at=in_flight) as relay:
        smtp = {"smtp_host": "127.0.0.1", "smtp_port": relay.port, "smtp_security": "none"}
        first = WorkerProcess(kontor, tmp_path / "worker-a", "crash-a", **smtp).start()
        try:
            # the server holds mail number 5 (delivered, not yet answered); the four before it are recorded
            wait_until(lambda: relay.handler.holding.is_set()
                       and scalar(kontor, "SELECT count(*) FROM outbox WHERE state = 'sent'") == in_flight - 1,
                       STARTUP_SECONDS, "four mails recorded as sent while the fifth is in flight", first)
            assert claimed_by(kontor, "outbox", "sending", "crash-a") == count - in_flight + 1
        finally:
            first.kill()
        relay.handler.release.set()
        second = WorkerProcess(kontor, tmp_path / "worker-a", "crash-a", **smtp).start()
        try:
            recovery, since_present = recovered_within(
                kontor, queued, "SELECT count(*) FROM outbox WHERE state = 'sent'", second)
        finally:
            second.stop()
    print(f"\n{kontor.engine.dialect.name}: the unsent mail went out {recovery:.1f} s after the new worker started "
          f"({since_present:.1f} s after its start-up)")
    assert recovery < RECOVERY_SECONDS
    received = wait_for_mail(mail, to, count=count + 1)
    assert len(received) == count + 1
    ids = collections.Counter(message["Message-ID"] for message in received)
    expected = {row.message_id for row in rows(kontor, "SELECT message_id FROM outbox")}
    assert set(ids) == expected  # no mail lost
    assert [mid for mid, n in ids.items() if n > 1] == [received[in_flight - 1]["Message-ID"]]  # the one in flight
    assert max(ids.values()) == 2
    assert scalar(kontor, f"SELECT count(*) FROM outbox WHERE state = 'sent' AND id IN "
                          f"({', '.join(map(str, queued))})") == count


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # (connections a server can drop)
def test_the_worker_s_connections_dropped_again_and_again_keep_every_invariant(kontor, mail, tmp_path):
    jobs = start_many(kontor, 100, amount=100)
    timers = start_many(kontor, 100, amount=5000, reminder_after="PT0.5S")
    to = f"kunde-{uuid.uuid4().hex[:8]}@example.test"
    with kontor.transaction() as session:
        for n in range(10):
            queue_mail(session, kontor.settings, who=SYSTEM, recipient=Recipient(to, "Anna Müller"), template="notice",
                       context={"subject": f"Nachricht {n}", "text": "x", "sender_name": "R", "salutation": None})
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": mail.smtp.port, "smtp_security": "none"}
    worker = WorkerProcess(kontor, tmp_path / "worker", "crash-a", job_batch_size=20, **smtp).start()
    wait_until(lambda: scalar(kontor, "SELECT count(*) FROM service_job WHERE state = 'done'") >= 1, STARTUP_SECONDS,
               "the worker at work", worker, every=0.01)  # (its start-up is not what this is about)

    def progress() -> int:
        return scalar(kontor, "SELECT (SELECT count(*) FROM service_job WHERE state = 'done') + (SELECT count(*) "
                              "FROM audit_event WHERE kind = 'timer_fired') + (SELECT count(*) FROM outbox "
                              "WHERE state = 'sent')")

    with ConnectionDropper(kontor.engine.url.database, "kontor-crash-worker", progress, step=10,
                           every=3.0) as dropper:
        try:
            wait_until(lambda: progress() == 210, STARTUP_SECONDS + 120,
                       "every job, timer and mail done while connections drop", worker, every=0.2)
        finally:
            dropped = dropper.stop()
            alive = worker.alive()
            worker.stop()
    print(f"\n{dropped} of the worker's connections dropped at {dropper.drops} moments while it worked")
    assert dropper.drops >= 3 and dropped >= 3, "connections should have been dropped while the worker worked"
    assert alive, "the worker should outlive its dropped connections"
    for kind, ids in (("job_completed", jobs), ("timer_fired", timers)):
        assert {row[0] for row in rows(kontor, "SELECT instance_id FROM audit_event WHERE kind = :kind",
                                       kind=kind)} == set(ids)
    assert repeated_audit(kontor, AUDIT_KINDS) == []
    assert scalar(kontor, "SELECT count(*) FROM incident") == 0
    received = collections.Counter(m["Message-ID"] for m in wait_for_mail(mail, to, count=10))
    assert set(received) == {row.message_id for row in rows(kontor, "SELECT message_id FROM outbox")}
    assert max(received.values()) <= 2
