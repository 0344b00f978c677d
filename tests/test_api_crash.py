"""Idempotency-Key against the API as a real process (uvicorn): a retry on the heels of its answer is a
replay, and after SIGKILL of the API in the middle of a request every key is answerable again, with
each business effect stored exactly once (checked by SQL)."""
from __future__ import annotations

import http.client
import json
import os
import threading
import time

import psycopg
import pytest

from tests.api_server import APIProcess
from tests.support import PG_ADMIN_URL, create_pg_database, drop_pg_database

LEASE_SECONDS = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path, worker_id):
    """The API on a database of its own (a lease of LEASE_SECONDS, so that a crashed key frees soon)."""
    name = f"kontor_crash_{worker_id}_{os.getpid()}"
    url = (f"sqlite:///{tmp_path / 'kontor.sqlite3'}" if request.param == "sqlite" else create_pg_database(name))
    api = APIProcess(url, tmp_path, idempotency_lease_seconds=LEASE_SECONDS)
    try:
        api.add_user()
        api.start()
        yield api
    finally:
        api.stop()
        if request.param == "postgresql":
            drop_pg_database(name)


def _pg(api: APIProcess) -> psycopg.Connection:
    database = api.env["KONTOR_DATABASE_URL"].rsplit("/", 1)[1]
    return psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}", autocommit=True)


def _count(api: APIProcess, sql: str) -> int:
    if api.env["KONTOR_DATABASE_URL"].startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(api.env["KONTOR_DATABASE_URL"].split("///", 1)[1]) as conn:
            return conn.execute(sql).fetchone()[0]
    with _pg(api) as conn:
        return conn.execute(sql).fetchone()[0]


def test_a_retry_sent_the_moment_the_answer_arrived_is_a_replay(served):
    """The answer is stored before its last byte leaves: 200 request/retry pairs on one kept-alive
    connection, never a 409 "still running"."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    headers = {"Authorization": f"Bearer {served.token()}", "Content-Type": "application/json"}
    outcomes: dict[str, int] = {}
    for n in range(200):
        body = json.dumps({"process": "demo_request", "data": {"amount": 10, "request_id": f"pair-{n}"}})
        answers = []
        for _ in range(2):
            connection.request("POST", "/api/v1/process-instances", body, {**headers, "Idempotency-Key": f"pair-{n}"})
            response = connection.getresponse()
            answers.append((response.status, response.getheader("idempotent-replayed"), json.loads(response.read())))
        (first, _, started), (again, replayed, replay) = answers
        assert first == 201, started
        outcomes[f"{again} replayed={replayed}"] = outcomes.get(f"{again} replayed={replayed}", 0) + 1
        assert (again, replayed) == (201, "true") and replay == started, outcomes
    connection.close()
    assert _count(served, "SELECT count(*) FROM process_instance") == 200


@pytest.mark.parametrize("served", ["postgresql"], indirect=True)
def test_after_sigkill_of_the_api_every_key_is_answerable_again_and_each_effect_is_stored_once(served):
    finished = served.start_instance("finished-before-the-crash", "finished")
    assert finished[0] == 201, finished
    # The request in flight: its process instance waits for a lock the test holds on the table (a real
    # wait in the database), after its key was reserved.
    blocker = _pg(served)
    blocker.execute("BEGIN")
    blocker.execute("LOCK TABLE process_instance IN EXCLUSIVE MODE")  # reads pass, the insert waits
    in_flight: list = []
    sender = threading.Thread(target=lambda: in_flight.append(_swallow(served.start_instance, "in-flight", "fly")))
    sender.start()
    with _pg(served) as watcher:
        _wait_for(lambda: watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0] == 1, "the request to wait for the table lock")
        assert watcher.execute("SELECT status_code FROM idempotency_record WHERE key = 'in-flight'").fetchall() == \
            [(None,)]
    # Longer than the lease: the running request keeps its key (it renews the lease), a retry is told to wait.
    time.sleep(LEASE_SECONDS * 2)
    waiting = served.start_instance("in-flight", "fly", timeout=10)
    assert waiting[0] == 409 and waiting[1]["error"]["code"] == "conflict", waiting

    served.kill()
    blocker.execute("ROLLBACK")
    blocker.close()
    sender.join(timeout=30)
    assert not sender.is_alive() and in_flight == [None]  # the client lost its connection, no answer
    served.start()
    served._token = None

    started_again = _until_not_running(lambda: served.start_instance("in-flight", "fly"))
    assert started_again[0] == 201 and "idempotent-replayed" not in started_again[2], started_again
    replay = served.start_instance("in-flight", "fly")
    assert replay[0] == 201 and replay[2]["idempotent-replayed"] == "true" and replay[1] == started_again[1]
    replay_of_finished = served.start_instance("finished-before-the-crash", "finished")
    assert replay_of_finished[0] == 201 and replay_of_finished[1] == finished[1]
    assert replay_of_finished[2]["idempotent-replayed"] == "true"
    # exactly once each: the killed request's transaction never committed, the retry's did
    assert _count(served, "SELECT count(*) FROM process_instance") == 2
    assert _count(served, f"SELECT count(*) FROM process_instance WHERE id = {int(started_again[1]['id'])}") == 1
    assert _count(served, "SELECT count(*) FROM idempotency_record WHERE status_code IS NULL") == 0
    assert _count(served, "SELECT count(*) FROM idempotency_record WHERE status_code = 201") == 2


def _swallow(call, *args):
    """The answer, or None when the connection broke (the server was killed)."""
    try:
        return call(*args)
    except OSError:
        return None


def _wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def _until_not_running(send, seconds: float = LEASE_SECONDS + 20):
    """Sends until the answer is not 409 "still running" (the dead request's lease lapses)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = send()
        if answer[0] != 409:
            return answer
        assert time.monotonic() < deadline, f"the key stayed blocked for {seconds} s: {answer}"
        assert answer[1]["error"]["code"] == "conflict", answer
        time.sleep(0.2)
