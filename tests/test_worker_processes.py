"""`kontor worker` with KONTOR_WORKER_PROCESSES=2 (the default on a two-core machine): a helper
process beside the main loop, a worker of its own (`name~2`), claims work too; both claim, every job
completes once; a helper killed is started again; SIGTERM stops both and their rows go; a parent
killed with SIGKILL leaves no helper behind. On SQLite and PostgreSQL, with the test's Prefect server."""
from __future__ import annotations

import os
import signal
import time

import pytest

from kontor.serving import default_worker_processes
from tests.crash_support import WorkerProcess, repeated_audit, rows, scalar, wait_until
from tests.test_worker_crash import start_many

pytestmark = pytest.mark.usefixtures("prefect")
STARTUP_SECONDS = 120


def workers_named(kontor, name: str) -> dict[str, int]:
    return dict(rows(kontor, "SELECT name, pid FROM worker WHERE name LIKE :name", name=f"{name}%"))


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie (its parent, the test, never waited for a grandchild) is gone too
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_two_worker_processes_share_the_work_and_stop_together(kontor, tmp_path):
    worker = WorkerProcess(kontor, tmp_path / "w", "multi", worker_processes=2, job_batch_size=5).start()
    try:
        wait_until(lambda: len(workers_named(kontor, "multi")) == 2, STARTUP_SECONDS,
                   "both worker processes present", worker)
        names = workers_named(kontor, "multi")
        assert set(names) == {"multi", "multi~2"} and names["multi"] == worker.process.pid
        helper = names["multi~2"]
        assert helper != worker.process.pid
        ids = start_many(kontor, 120, amount=100)
        listed = ", ".join(map(str, ids))
        wait_until(lambda: scalar(kontor, f"SELECT count(*) FROM service_job WHERE state = 'done' "
                                          f"AND instance_id IN ({listed})") == len(ids), 120, "every job done", worker)
        claimants = rows(kontor, f"SELECT claimed_by, count(*) FROM service_job WHERE instance_id IN ({listed}) "
                                 f"GROUP BY claimed_by")
        by_worker = {claimant.split(":")[0]: count for claimant, count in claimants}
        assert set(by_worker) == {"multi", "multi~2"}, by_worker  # both claimed
        assert repeated_audit(kontor, ("job_completed",)) == []  # each job once
        os.kill(helper, signal.SIGKILL)  # a helper that dies is started again under its name
        wait_until(lambda: workers_named(kontor, "multi").get("multi~2") not in (None, helper), 60,
                   "the helper started again", worker)
        helper = workers_named(kontor, "multi")["multi~2"]
    finally:
        worker.stop()
    assert worker.process.returncode == 0, worker.output()
    wait_until(lambda: pid_gone(helper), 30, "the helper process gone with its parent")
    assert workers_named(kontor, "multi") == {}  # both stopped cleanly: their claims are free at once


def test_a_helper_whose_parent_is_killed_stops_on_its_own(kontor, tmp_path):
    worker = WorkerProcess(kontor, tmp_path / "w", "orphan", worker_processes=2).start()
    try:
        wait_until(lambda: len(workers_named(kontor, "orphan")) == 2, STARTUP_SECONDS,
                   "both worker processes present", worker)
        helper = workers_named(kontor, "orphan")["orphan~2"]
    finally:
        worker.kill()
    started = time.monotonic()
    wait_until(lambda: pid_gone(helper), 30, "the helper stopping after its parent's SIGKILL")
    assert time.monotonic() - started < 15
    assert list(workers_named(kontor, "orphan")) == ["orphan"]  # the helper left; the killed one's row waits


def test_the_default_is_one_process_per_core_at_most_four(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))
    assert default_worker_processes() == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert default_worker_processes() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert default_worker_processes() == 1
    from kontor.settings import Settings

    assert Settings(worker_processes=3).worker_processes == 3
    with pytest.raises(ValueError):
        Settings(worker_processes=0)
