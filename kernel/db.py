"""Database engine, sessions and migrations: the same code for SQLite and PostgreSQL."""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from decimal import Decimal

from sqlalchemy import JSON, BigInteger, DateTime, Numeric, create_engine, event, exc, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from kernel.private_files import sqlite_file

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone)."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; Kontor stores aware UTC datetimes only")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class ExactDecimal(TypeDecorator):
    """Money and quantities as exact Decimals with 4 places on both databases: NUMERIC(18, 4) on
    PostgreSQL, a scaled integer on SQLite (whose NUMERIC is a float). Floats are refused."""
    impl = Numeric(18, 4)
    cache_ok = True
    PLACES = Decimal("0.0001")
    _SCALE = 10_000

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("amounts are Decimal, never float")
        value = Decimal(value).quantize(self.PLACES)
        return int(value * self._SCALE) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(value) / self._SCALE).quantize(self.PLACES)
        return Decimal(value).quantize(self.PLACES)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON, Decimal: ExactDecimal}


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:" and not path.startswith("file:"):
            sqlite_file(Path(path))  # created 0600 before SQLite opens it: its -wal and -shm follow
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _make_sqlite_transactional(engine)
        return engine
    from kernel.driver_sql import send_waiting_first

    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    # The runtime's hot-path statements are prepared by kernel.pg_pipeline; psycopg's own
    # preparing is off, because psycopg deallocates every prepared statement of a connection
    # after a rollback (DEALLOCATE ALL), theirs included.
    kwargs["connect_args"] = {"prepare_threshold": None, **kwargs.get("connect_args", {})}
    engine = create_engine(url, **kwargs)
    _ping_idle_connections(engine)
    send_waiting_first(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    """A pooled connection that sat idle is pinged before use, and replaced if the server dropped
    it (a restart, a proxy's idle timeout). One in steady use is not: its last statement proved it
    alive, and pinging on every checkout would cost a round trip per transaction. A connection
    lost within those seconds fails its statement; the pool is then renewed and the caller gets
    the usual 'try again' (503, or the job's retry)."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection, record) -> None:
        record.info["kontor_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop("kontor_idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            if not engine.dialect.do_ping(dbapi_connection):
                raise exc.DisconnectionError("the idle connection did not answer")
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"the idle connection is gone: {error}") from error


def _make_sqlite_transactional(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, and BEGIN IMMEDIATE so that writers queue instead of failing
    half-way with 'database is locked' (the driver's lazy BEGIN is switched off)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits when the block ends normally, rolls back otherwise."""
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


# PostgreSQL advisory lock keys: processes that start together migrate and deploy one after another.
MIGRATE_LOCK = 0x4B4F4E01
DEPLOY_LOCK = 0x4B4F4E02


def lock_for_startup(session_or_connection, key: int) -> None:
    """Hold a transaction-scoped advisory lock on PostgreSQL (SQLite serializes writers anyway)."""
    bind = session_or_connection.get_bind() if hasattr(session_or_connection, "get_bind") else session_or_connection
    if bind.dialect.name == "postgresql":
        session_or_connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def dialect_insert(session: Session, entity):
    """INSERT with the database's ON CONFLICT support (PostgreSQL and SQLite share the syntax)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(entity)


def migrate(url: str) -> None:
    """Bring the database to the newest schema (Alembic); safe when several processes start at once."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.pool import NullPool

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            lock_for_startup(connection, MIGRATE_LOCK)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
