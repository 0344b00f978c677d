"""Which database errors are passing: the connection dropped or timed out, the pool had none free,
the server is restarting or shutting down, a lock or a serialization conflict made the statement
give up, SQLite was busy. A request that met one may simply be sent again (the API answers 503
with Retry-After); any other database error is a fault of the request or of the code."""
from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc as sa

# SQLAlchemy's own: the pool found no connection in time, or a connection failed its check-out.
_ALWAYS = (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, sa.DisconnectionError)
# The drivers' own, when one escapes without SQLAlchemy's wrapping (kernel.pg_pipeline talks to libpq).
_DRIVER = (psycopg.OperationalError, psycopg.InterfaceError)
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def is_transient_database_error(error: BaseException) -> bool:
    if isinstance(error, _ALWAYS + _DRIVER):
        return True
    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
        if isinstance(error, _DRIVER):
            return True
    if isinstance(error, sqlite3.OperationalError):
        return any(text in str(error).lower() for text in _SQLITE_BUSY)
    return False


def once_more_if_disconnected(record, log, what: str):
    """Run `record` (a write in its own transaction); if the database dropped the connection (a
    restart), nothing was committed: run it once more on a fresh connection. Recording the outcome
    of work already done this way never does the work again."""
    try:
        return record()
    except sa.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("connection lost while recording %s; once more", what)
        return record()
