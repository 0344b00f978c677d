"""Passing database errors anywhere in a request, the idempotency records included, are 503 with
Retry-After in the error shape; a retry with the same Idempotency-Key then runs once. The faults are
real: on PostgreSQL the API's connections are ended by pg_terminate_backend (between requests, or
just before a transaction's COMMIT); on SQLite another connection holds the database's write lock
when a transaction begins ("database is locked")."""
from __future__ import annotations

import sqlite3
import threading

import psycopg
import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kernel.driver_sql import DriverStatement
from kernel.transient import is_transient_database_error
from runtime.models import ProcessInstance
from runtime.store import pipelined
from tests.support import PG_ADMIN_URL

START = {"process": "demo_request", "data": {"amount": 10, "request_id": "dropped"}}


def _admin(kontor) -> psycopg.Connection:
    database = kontor.engine.url.database
    return psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}", autocommit=True)


def _end_backends(admin: psycopg.Connection, *pids: int) -> None:
    """pg_terminate_backend, and wait until each backend is gone."""
    for pid in pids:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


class FailingTransaction:
    """Makes the `nth` database transaction from now on fail the way the dialect really fails (on
    SQLite counted by connections taken from the pool: one per transaction)."""

    def __init__(self, kontor, nth: int):
        self.kontor, self.nth, self.seen, self.fired = kontor, nth, 0, False
        self.postgresql = kontor.engine.dialect.name == "postgresql"
        self._holder: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __enter__(self):
        if self.postgresql:
            event.listen(self.kontor.engine, "commit", self._before_commit)
        else:
            event.listen(self.kontor.engine, "checkout", self._before_begin)
            event.listen(self.kontor.engine, "handle_error", self._release)
        return self

    def __exit__(self, *_):
        if self.postgresql:
            event.remove(self.kontor.engine, "commit", self._before_commit)
        else:
            event.remove(self.kontor.engine, "checkout", self._before_begin)
            event.remove(self.kontor.engine, "handle_error", self._release)
            self._release(None)

    def _this_one(self) -> bool:
        with self._lock:
            self.seen += 1
            hit = self.seen == self.nth
            self.fired |= hit
            return hit

    def _before_commit(self, connection) -> None:
        """PostgreSQL: the connection is ended by the server just before its COMMIT goes out."""
        if self._this_one():
            with _admin(self.kontor) as admin:
                _end_backends(admin, connection.connection.dbapi_connection.info.backend_pid)

    def _before_begin(self, dbapi_connection, _record, _proxy) -> None:
        """SQLite: another connection holds the write lock when this transaction's connection is
        taken from the pool, so its BEGIN IMMEDIATE fails (after 50 ms instead of 30 s)."""
        if self._this_one():
            dbapi_connection.execute("PRAGMA busy_timeout=50")
            self._holder = sqlite3.connect(self.kontor.engine.url.database, isolation_level=None,
                                           check_same_thread=False)
            self._holder.execute("BEGIN EXCLUSIVE")

    def _release(self, context) -> None:
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None
            if context is not None and context.connection is not None:
                context.connection.connection.dbapi_connection.execute("PRAGMA busy_timeout=30000")


def _instances(kontor) -> int:
    with kontor.transaction() as session:
        return len(session.scalars(select(ProcessInstance.id)).all())


def _transactions_of_one_request(api, kontor) -> int:
    counted = FailingTransaction(kontor, nth=0)
    with counted:
        assert api.post("/process-instances", START, user="sam", headers={"Idempotency-Key": "count"}).status_code \
            == 201
    return counted.seen


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {"error": {"code": "unavailable", "details": [],
                                         "message": "the database is busy or unavailable; try again"}}


def test_every_transaction_of_an_idempotent_request_failing_gives_503_then_the_retry_runs_once(api, kontor):
    api.token("sam")
    transactions = _transactions_of_one_request(api, kontor)
    assert transactions >= 3  # the caller's check, the reservation, the step, the answer stored
    answers = []
    for nth in range(1, transactions + 1):
        before, key = _instances(kontor), f"fails-at-{nth}"
        with FailingTransaction(kontor, nth) as fault:
            first = api.post("/process-instances", START, user="sam", headers={"Idempotency-Key": key})
        assert fault.fired
        if first.status_code != 201:
            assert_unavailable(first)
        retry = api.post("/process-instances", START, user="sam", headers={"Idempotency-Key": key})
        assert retry.status_code == 201, (nth, retry.text)
        assert _instances(kontor) == before + 1, f"transaction {nth} failing: the effect is not there exactly once"
        if first.status_code == 201:
            assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
        answers.append(first.status_code)
    # the step itself failing is a 503; the stored answer failing once is retried on a new connection
    assert 503 in answers and answers[-1] == 201, answers


def test_a_request_after_the_server_dropped_every_connection_is_503_or_runs_and_its_retry_runs_once(api, kontor):
    api.token("sam")
    for round_ in range(3):
        assert api.post("/process-instances", START, user="sam").status_code == 201  # connections in the pool
        before, key = _instances(kontor), f"dropped-{round_}"
        if kontor.engine.dialect.name == "postgresql":
            with _admin(kontor) as admin:
                pids = [pid for (pid,) in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
                assert pids
                _end_backends(admin, *pids)
            first = api.post("/process-instances", START, user="sam", headers={"Idempotency-Key": key})
        else:
            with FailingTransaction(kontor, nth=1 + round_ % 2):  # the caller's check, or the reservation
                first = api.post("/process-instances", START, user="sam", headers={"Idempotency-Key": key})
        if first.status_code != 201:
            assert_unavailable(first)
        retry = api.post("/process-instances", START, user="sam", headers={"Idempotency-Key": key})
        assert retry.status_code == 201, retry.text
        assert _instances(kontor) == before + 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_statements_waiting_in_a_pipeline_whose_connection_died_raise_the_connection_error(kontor):
    """PostgreSQL only: pipelines are libpq's. Neither `rows` nor `rowcount` of a statement sent with a
    failed pipeline may pass for an answer."""
    probe = DriverStatement(select(ProcessInstance.id))
    with pytest.raises(DBAPIError) as failure, kontor.transaction() as session:
        with pipelined(session) as connection:
            waiting = probe.execute(connection, {})
            with _admin(kontor) as admin:
                _end_backends(admin, connection.connection.dbapi_connection.info.backend_pid)
    assert is_transient_database_error(failure.value)
    for read in (lambda: waiting.rows, lambda: waiting.rowcount):
        with pytest.raises(DBAPIError) as again:
            read()
        assert is_transient_database_error(again.value)


def test_which_database_errors_are_passing(tmp_path):
    path = tmp_path / "locks.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0.01)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError) as no_table:
        holder.execute("SELECT * FROM missing")
    holder.execute("ROLLBACK")
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://postgres@127.0.0.1:1/postgres", connect_timeout=2)
    engine = create_engine(f"sqlite:///{path}", pool_size=1, max_overflow=0, pool_timeout=0.05)
    with engine.connect():
        with pytest.raises(PoolTimeout) as no_connection:
            engine.connect()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError) as duplicate, engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()
    assert is_transient_database_error(locked.value) and is_transient_database_error(refused.value)
    assert is_transient_database_error(no_connection.value)
    assert not is_transient_database_error(no_table.value) and not is_transient_database_error(duplicate.value)
    assert not is_transient_database_error(ValueError("database is locked"))
