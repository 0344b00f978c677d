"""The hot-path statements sent together (kernel.pg_pipeline on PostgreSQL; one by one on SQLite):
in the order given even when SQLAlchemy runs a statement in between, a result read inside a
pipeline, and the statements' preparations surviving a rollback on the same connection."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from kernel.db import make_engine, make_session_factory, transaction
from kernel.driver_sql import DriverStatement
from runtime.models import AuditEvent
from runtime.store import audit_event, core, pipelined, write_events

_AUDIT = AuditEvent.__table__
_COUNT = DriverStatement(select(func.count().label("n")).select_from(_AUDIT).where(_AUDIT.c.kind == "queued_probe"))


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "queued_probe"))


def test_a_statement_of_the_orm_in_a_pipeline_runs_after_those_given_before_it(kontor):
    with kontor.transaction() as session:
        with pipelined(session):
            write_events(session, [audit_event(None, "queued_probe", "test")])
            seen_by_the_orm = _count(session)  # (sends the waiting insert first)
            write_events(session, [audit_event(None, "queued_probe", "test")])
        assert seen_by_the_orm == 1
        assert _count(session) == 2


def test_a_result_read_inside_a_pipeline_sends_what_waits(kontor):
    with kontor.transaction() as session:
        with pipelined(session) as connection:
            write_events(session, [audit_event(None, "queued_probe", "test")])
            assert _COUNT.execute(connection, {}).first()["n"] == 1
            write_events(session, [audit_event(None, "queued_probe", "test")])
            later = _COUNT.execute(connection, {})
        assert later.first()["n"] == 2


def test_an_error_inside_a_pipeline_block_drops_what_waits_and_the_transaction_rolls_back(kontor):
    with pytest.raises(RuntimeError):
        with kontor.transaction() as session:
            with pipelined(session):
                write_events(session, [audit_event(None, "queued_probe", "test")])
                raise RuntimeError("the step failed before its writes were sent")
    with kontor.transaction() as session:
        assert _count(session) == 0
        write_events(session, [audit_event(None, "queued_probe", "test")])  # the connection is fine
        assert _count(session) == 1


def test_prepared_statements_outlive_a_rollback_on_the_same_connection(kontor):
    """psycopg deallocates every prepared statement of a connection after a rollback once it has
    prepared statements of its own; Kontor's engine keeps psycopg from preparing, so the hot
    path's statements stay prepared."""
    engine = make_engine(kontor.settings.resolved_database_url, pool_size=1, max_overflow=0)  # one connection
    factory = make_session_factory(engine)
    try:
        for _ in range(3):
            with transaction(factory) as session:
                write_events(session, [audit_event(None, "queued_probe", "test")])
                for _ in range(6):  # what psycopg would prepare after five runs
                    _count(session)
            with pytest.raises(IntegrityError):
                with transaction(factory) as session:
                    write_events(session, [audit_event(None, "queued_probe", "test")])
                    _count(session)
                    write_events(session, [audit_event(2_000_000_000, "queued_probe", "test")])  # no such instance
        with transaction(factory) as session:
            assert _count(session) == 3
            if engine.dialect.name == "postgresql":
                assert session.scalar(text("SELECT count(*) FROM pg_prepared_statements "
                                           "WHERE name LIKE 'kontor\\_%'")) >= 1
                assert core(session).connection.driver_connection.prepare_threshold is None
    finally:
        engine.dispose()


# ------------------------------------------------------------- a connection lost during a pipeline
_TERMINATE_ME = DriverStatement(select(func.pg_terminate_backend(func.pg_backend_pid()).label("gone")))


def _terminate(pid: int) -> None:
    import psycopg

    from tests.support import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _each_gives_the_lost_connection(results) -> None:
    """Every statement of the failed pipeline answers with the connection's error, not a missing result."""
    assert results
    for result in results:
        with pytest.raises(OperationalError) as lost:
            result.rowcount  # noqa: B018 - reading it is the point
        assert lost.value.connection_invalidated
        with pytest.raises(OperationalError):
            result.rows  # noqa: B018


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # (pipelines are PostgreSQL's)
def test_a_connection_dropped_before_a_pipeline_is_sent_fails_every_statement_with_its_error(kontor):
    session = kontor.sessions()
    try:
        session.begin()
        pid = session.scalar(text("SELECT pg_backend_pid()"))
        _terminate(pid)  # a restart, a proxy's timeout, ops ending the session
        results = []
        with pytest.raises(OperationalError) as sent:
            with pipelined(session) as connection:
                write_events(session, [audit_event(None, "queued_probe", "test")])
                results = [_COUNT.execute(connection, {}) for _ in range(3)]
        assert sent.value.connection_invalidated
        _each_gives_the_lost_connection(results)
    finally:
        session.close()
    with kontor.transaction() as session:  # the pool gives a working connection again; nothing was kept
        assert _count(session) == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_dropped_while_a_pipeline_is_answered_fails_every_statement_with_its_error(kontor):
    session = kontor.sessions()
    try:
        session.begin()
        results = []
        with pytest.raises(OperationalError):
            with pipelined(session) as connection:
                write_events(session, [audit_event(None, "queued_probe", "test")])
                results = [_COUNT.execute(connection, {}), _TERMINATE_ME.execute(connection, {}),
                           _COUNT.execute(connection, {})]
        _each_gives_the_lost_connection(results)  # the first was answered, but its transaction is gone
    finally:
        session.close()
    with kontor.transaction() as session:
        assert _count(session) == 0


def test_a_statement_of_a_rolled_back_pipeline_says_so_when_read(kontor):
    result = None
    with pytest.raises(RuntimeError):
        with kontor.transaction() as session:
            with pipelined(session) as connection:
                result = _COUNT.execute(connection, {})
                raise RuntimeError("the step failed before its statements were sent")
    if kontor.engine.dialect.name == "postgresql":
        with pytest.raises(OperationalError, match="never sent"):
            result.rowcount  # noqa: B018
    else:  # SQLite ran it at once
        assert result.rowcount == -1 and result.first()["n"] == 0
