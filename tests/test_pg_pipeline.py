"""The hot-path statements sent together (kontor.pg_pipeline on PostgreSQL; one by one on SQLite):
in the order given even when SQLAlchemy runs a statement in between, a result read inside a
pipeline, and the statements' preparations surviving a rollback on the same connection."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from kontor.db import make_engine, make_session_factory, transaction
from kontor.driver_sql import DriverStatement
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
