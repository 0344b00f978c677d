"""Pooled PostgreSQL connections: one the server dropped while it sat idle in the pool is
noticed on checkout and replaced; one in steady use is not pinged before each transaction."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

import kernel.db as db
from tests.support import PG_ADMIN_URL


@pytest.fixture
def pg_engine():
    engine = db.make_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                            pool_size=1, max_overflow=0)
    try:
        _backend_pid(engine)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required and did not answer: {exc}", pytrace=False)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_dropped_while_idle_is_replaced_on_checkout(pg_engine, monkeypatch):
    first = _backend_pid(pg_engine)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:  # a server restart, a proxy's idle timeout
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has sat idle long enough
    second = _backend_pid(pg_engine)  # no error: pinged on checkout, found gone, replaced
    assert second != first


def test_a_connection_in_steady_use_is_not_pinged_before_each_transaction(pg_engine, monkeypatch):
    pings = []
    original = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda connection: pings.append(1) or original(connection))
    for _ in range(5):
        _backend_pid(pg_engine)
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    _backend_pid(pg_engine)
    assert pings == [1]
