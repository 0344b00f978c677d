"""Worker identity in one process (the crash tests do it with real processes): a live worker's
claims are never taken by another, a stopped worker's are free at once, a silent worker's after
the stale time, and a second worker on the same data folder gets a name of its own. On SQLite
and PostgreSQL."""
from __future__ import annotations

import time

from sqlalchemy import select

from runtime.jobs import claim_jobs
from runtime.models import ServiceJob
from runtime.workers import Worker, present
from tests.support import start_demo

OTHER = "elsewhere:1:0"  # a worker of another host, claiming


def worker_settings(kontor, tmp_path, **changes):
    return kontor.settings.model_copy(update={"data_dir": tmp_path, "worker_id": "presence-a", **changes})


def claimant_of(kontor, job_id: int) -> str | None:
    with kontor.transaction() as session:
        return session.scalar(select(ServiceJob.claimed_by).where(ServiceJob.id == job_id))


def test_a_live_worker_keeps_its_claims_and_a_stopped_one_leaves_them_free_at_once(kontor, tmp_path):
    start_demo(kontor, "presence-1")
    with present(kontor.sessions, worker_settings(kontor, tmp_path)) as worker:
        [job] = claim_jobs(kontor.sessions, kontor.runtime, 10)
        assert claimant_of(kontor, job.id) == worker.incarnation and worker.name == "presence-a"
        assert claim_jobs(kontor.sessions, kontor.runtime, 10, claimed_by=OTHER) == []  # alive: not taken
        assert claim_jobs(kontor.sessions, kontor.runtime, 10, claimed_by=None) == []
        with present(kontor.sessions, worker_settings(kontor, tmp_path)) as second:  # same folder, same setting
            assert second.name == "presence-a~2"
            assert claim_jobs(kontor.sessions, kontor.runtime, 10) == []  # (claims for presence-a~2 now)
    with kontor.transaction() as session:
        assert session.scalar(select(Worker).where(Worker.name.like("presence-a%"))) is None  # signed off
    [again] = claim_jobs(kontor.sessions, kontor.runtime, 10, claimed_by=OTHER)  # stopped: free at once
    assert (again.id, again.attempt) == (job.id, 2)


def test_a_silent_worker_s_claims_are_free_after_the_stale_time(kontor, tmp_path):
    start_demo(kontor, "presence-2")
    settings = worker_settings(kontor, tmp_path, worker_heartbeat_seconds=0.1, worker_stale_seconds=1.0)
    with present(kontor.sessions, settings) as worker:
        [job] = claim_jobs(kontor.sessions, kontor.runtime, 10)
        time.sleep(1.3)  # heartbeats keep it alive past the stale time
        assert claim_jobs(kontor.sessions, kontor.runtime, 10, claimed_by=OTHER) == []
        worker._stop.set()  # its heartbeat stops: the process hangs, or its host vanished
        worker._thread.join()
        silent = time.monotonic()
        while not (taken := claim_jobs(kontor.sessions, kontor.runtime, 10, claimed_by=OTHER)):
            assert time.monotonic() - silent < 5, "a silent worker's claims should be free after the stale time"
            time.sleep(0.05)
        assert time.monotonic() - silent >= 0.5  # not before its last heartbeat ran out
    assert [(j.id, j.attempt) for j in taken] == [(job.id, 2)]
    assert claimant_of(kontor, job.id) == OTHER
