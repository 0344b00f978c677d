"""The runtime's hot-path statements, run straight on the database driver.

Executing a Core statement through SQLAlchemy costs about 150 µs of CPU beyond the driver's
own work (measured on psycopg: 230 µs against 80 µs for one insert), and every step of every
instance sends about six statements. A DriverStatement is a Core statement compiled once per
dialect and set of parameter names. It converts parameters and results with the columns' own
types (JSON, UTC datetimes, exact decimals) as SQLAlchemy would, and runs on the driver
connection under the session's connection, inside its transaction. Driver errors are raised as
SQLAlchemy's (IntegrityError, DBAPIError with connection_invalidated), as everywhere else.

On PostgreSQL the statements go over libpq's pipeline mode (kernel.pg_pipeline): inside a
`pipeline` block they wait and go to the server together when the block ends (or when a result
of one of them is read first); outside one each goes at once. Writes that depend on no other go
to PostgreSQL as one statement (`Batch`). A statement SQLAlchemy runs on the same connection
(the ORM's, a savepoint's) sends the waiting ones first (hooked up by `send_waiting_first`).

Only for statements whose parameters are all given: a column default computed in Python or an
expanding IN list would need SQLAlchemy's execution, so compiling such a use fails loudly.
"""
from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import bindparam, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from kernel.pg_pipeline import Pending, StatementQueue


@dataclass(frozen=True, eq=False)  # (compared and hashed by identity: each is compiled once)
class _Compiled:
    sql: str
    encoded: bytes  # the statement as sent to PostgreSQL
    constants: dict  # the values of literals in the statement (`status == "running"`, a LIMIT)
    converters: tuple[tuple[str, Callable], ...]  # parameter name -> the type's bind processor
    positions: tuple[str, ...] | None  # parameter names in the order of the placeholders ($n, ?)
    columns: tuple[str, ...]  # result column keys
    readers: tuple[Callable | None, ...]  # result processors, one per column


class DriverResult:
    """Rows as dicts keyed like the statement's columns (labels included), and the row count. On
    PostgreSQL read when first asked for: a statement still waiting in a pipeline is sent then."""
    __slots__ = ("_source", "_form", "_rows")

    def __init__(self, source, form: _Compiled, rows: list[dict] | None = None):
        self._source, self._form, self._rows = source, form, rows  # source: (connection, Pending) or a count

    @property
    def rows(self) -> list[dict]:
        if self._rows is None:
            connection, pending = self._source
            queue = _answered(connection, pending)
            self._rows = [_read(self._form, row) for row in queue.rows(pending)] if self._form.columns else []
        return self._rows

    @property
    def rowcount(self) -> int:
        if isinstance(self._source, int):
            return self._source
        connection, pending = self._source
        _answered(connection, pending)
        return pending.result.command_tuples or 0

    def first(self) -> dict | None:
        rows = self.rows
        return rows[0] if rows else None


class DriverStatement:
    def __init__(self, statement):
        self.statement = statement
        self._forms: dict[tuple, _Compiled] = {}

    def execute(self, connection: Connection, parameters: dict) -> DriverResult:
        """Run once. On PostgreSQL the rows are read when asked for (inside a pipeline: once it
        has been sent); on SQLite at once."""
        form = self.form(connection, parameters)
        sent = _execute(connection, form, parameters)
        if isinstance(sent, Pending):
            return DriverResult((connection, sent), form)
        return DriverResult(sent.rowcount, form, [_read(form, row) for row in sent.fetchall()] if form.columns else [])

    def form(self, connection: Connection, parameters: dict) -> _Compiled:
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, tuple(parameters))
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = _compile(self.statement, dialect, list(parameters))
        return form


class DriverInsert:
    """Rows for one table in as few INSERT statements as the database's limit of parameters per
    statement allows (no ids are read back, so they may be sent in a pipeline). A statement is
    compiled once per dialect, column set and row count."""

    def __init__(self, table):
        self.table = table
        self._forms: dict[tuple, _Compiled] = {}

    def execute(self, connection: Connection, rows: list[dict]) -> None:
        for form, parameters in self.forms(connection, rows):
            _execute(connection, form, parameters)

    def forms(self, connection: Connection, rows: list[dict]) -> list[tuple[_Compiled, dict]]:
        """The statements for these rows, each with its parameters."""
        if not rows:
            return []
        names = tuple(rows[0])
        per_statement = max(1, MAX_PARAMETERS // len(names))
        return [self._form(connection, names, rows[first:first + per_statement])
                for first in range(0, len(rows), per_statement)]

    def _form(self, connection: Connection, names: tuple, rows: list[dict]) -> tuple[_Compiled, dict]:
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, names, len(rows))
        form = self._forms.get(key)
        if form is None:
            values = [{name: bindparam(f"{name}_{n}", type_=self.table.c[name].type) for name in names}
                      for n in range(len(rows))]
            form = self._forms[key] = _compile(insert(self.table).values(values), dialect, None)
        return form, {f"{name}_{n}": row[name] for n, row in enumerate(rows) for name in names}


MAX_PARAMETERS = 30_000  # per statement: PostgreSQL takes 65,535, SQLite (3.32 and later) 32,766


class Batch:
    """Writes that do not depend on one another, sent as one statement on PostgreSQL: each is a
    data-modifying part of `WITH s0 AS (…), s1 AS (…) SELECT 1`. PostgreSQL runs every part on
    the same snapshot, so none may need another's effect (a row another inserts, say) and no two
    may change the same row; their errors are the statement's. Parts beyond the limit of
    parameters go into a further statement. SQLite runs them one by one."""

    def __init__(self):
        self._parts: list[tuple[_Compiled, dict]] = []

    def add(self, connection: Connection, statement: DriverStatement, parameters: dict) -> None:
        self._parts.append((statement.form(connection, parameters), parameters))

    def add_rows(self, connection: Connection, insert_: DriverInsert, rows: list[dict]) -> None:
        self._parts.extend(insert_.forms(connection, rows))

    def execute(self, connection: Connection) -> None:
        parts, self._parts = self._parts, []
        if connection.dialect.name != "postgresql":
            for form, parameters in parts:
                _execute(connection, form, parameters)
            return
        for group in _within_the_limit(parts):
            if len(group) == 1:
                _execute(connection, *group[0])
                continue
            sql = _merged(tuple(form for form, _ in group))
            _send(connection, sql, tuple(value for form, parameters in group for value in _bound(form, parameters)))


def _within_the_limit(parts: list[tuple[_Compiled, dict]]) -> list[list]:
    groups, count = [[]], 0
    for form, parameters in parts:
        size = len(form.positions or ())
        if groups[-1] and count + size > MAX_PARAMETERS:
            groups.append([])
            count = 0
        groups[-1].append((form, parameters))
        count += size
    return [group for group in groups if group]


@functools.lru_cache(maxsize=256)
def _merged(forms: tuple[_Compiled, ...]) -> bytes:
    """One statement of data-modifying parts. Each part's placeholders $1 … $n are renumbered to
    follow the previous part's (the parts are compiled from Core statements, whose text holds no
    literal `$` of its own: every value is a parameter)."""
    parts, offset = [], 0
    for n, form in enumerate(forms):
        sql = _DOLLAR.sub(lambda match, shift=offset: f"${int(match.group(1)) + shift}", form.sql)
        parts.append(f"s{n} AS ({sql})")
        offset += len(form.positions)
    return f"WITH {', '.join(parts)} SELECT 1".encode()


_DOLLAR = re.compile(r"\$(\d+)")


def _execute(connection: Connection, form: _Compiled, parameters: dict):
    """On PostgreSQL the statement queued (kernel.pg_pipeline), its Pending; on SQLite run at once,
    the driver's cursor."""
    if connection.dialect.name == "postgresql":
        return _send(connection, form.encoded, _bound(form, parameters))
    with as_sqlalchemy_errors(connection, form.sql, parameters):
        return connection.connection.driver_connection.execute(form.sql, _bound(form, parameters))


# ------------------------------------------------------------- PostgreSQL: the statement queue
_QUEUE = "kontor_statement_queue"  # in the pooled connection's info: (driver connection, its queue)


def _queue(connection: Connection) -> StatementQueue:
    info = connection.connection.info
    known = info.get(_QUEUE)
    driver = connection.connection.driver_connection
    if known is None or known.driver is not driver:
        known = info[_QUEUE] = StatementQueue(driver)
    return known


def _send(connection: Connection, sql: bytes, values: tuple) -> Pending:
    """The statement queued on the connection; sent at once unless a pipeline block is open."""
    queue = _queue(connection)
    pending = queue.add(sql, values)
    if not queue.held:
        _send_waiting(connection, queue)
    return pending


def _send_waiting(connection: Connection, queue: StatementQueue) -> None:
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        queue.send()
    except dbapi_error as error:
        with as_sqlalchemy_errors(connection, queue.failed.decode() if queue.failed else None, None):
            raise error
    except BaseException:  # interrupted half-way: what the server still sends back would be read by nobody
        connection.invalidate()
        raise


def _answered(connection: Connection, pending: Pending) -> StatementQueue:
    """The statement's queue, once the statement has been answered (sent now if it still waits)."""
    if pending.result is None and pending.error is None:
        _send_waiting(connection, pending.queue)
    if pending.error is not None:
        sql, error = pending.sql.decode(), pending.error
        if connection.invalidated or connection.closed:  # (a failed send discarded it; its block ended)
            raise DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error,
                                      connection_invalidated=connection.invalidated,
                                      dialect=connection.dialect) from error
        with as_sqlalchemy_errors(connection, sql, None):
            raise error
    if pending.result is None:  # (never: every statement sent gets a result or an error)
        raise RuntimeError("a pipelined statement was sent but neither answered nor failed")
    return pending.queue


@contextmanager
def pipeline(connection: Connection):
    """On PostgreSQL, what is executed inside goes to the server together when the block ends (a
    transaction's BEGIN with it; a result read inside sends what waits at that point); elsewhere
    nothing changes."""
    if connection.dialect.name != "postgresql":
        yield connection
        return
    queue = _queue(connection)
    queue.held += 1
    try:
        yield connection
    except BaseException:
        queue.held -= 1
        if not queue.held:
            queue.discard()  # (the block failed: its transaction, or savepoint, is rolled back by its owner)
        raise
    queue.held -= 1
    if not queue.held:
        _send_waiting(connection, queue)


def send_waiting_first(engine: Engine) -> None:
    """Statements waiting in a pipeline go to the server before any that SQLAlchemy runs on the same
    connection (the ORM's, a savepoint's, a commit), so that they run in the order they were given;
    a rollback drops them."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
        _send_if_waiting(connection)

    @event.listens_for(engine, "commit")
    def _before_commit(connection) -> None:
        _send_if_waiting(connection)

    @event.listens_for(engine, "rollback")
    def _before_rollback(connection) -> None:
        known = connection.connection.info.get(_QUEUE) if not connection.invalidated else None
        if known is not None:
            known.discard()


def _send_if_waiting(connection: Connection) -> None:
    known = connection.connection.info.get(_QUEUE)
    if known:
        _send_waiting(connection, known)


def _compile(statement, dialect, names: list[str] | None) -> _Compiled:
    """`names`: the parameters the statement is run with (None: those of its own bind parameters)."""
    compiled = statement.compile(dialect=_numbered(dialect), column_keys=names)
    names = list(compiled.binds) if names is None else names
    defaulted = [column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch)
                 if column.key not in names]
    if defaulted:
        raise ValueError(f"a driver statement needs every value given; {defaulted} would take a column default")
    constants, converters = {}, []
    for name, bind in compiled.binds.items():
        if bind.expanding:
            raise ValueError(f"a driver statement cannot expand the list parameter {name!r}")
        if name not in names:
            if bind.required:
                raise ValueError(f"a driver statement needs the parameter {name!r}")
            constants[name] = bind.effective_value
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            converters.append((name, processor))
    # a select's columns, or what an insert or update returns (a text() statement: none read)
    columns = tuple(getattr(statement, "exported_columns", ()))
    return _Compiled(
        compiled.string, compiled.string.encode(), constants, tuple(converters),
        tuple(compiled.positiontup) if compiled.positional else None,
        tuple(column.key for column in columns),
        tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns))


@functools.lru_cache(maxsize=8)
def _numbered(dialect):
    """The dialect to compile with: on PostgreSQL one of the same kind with $1, $2 … placeholders."""
    if dialect.name != "postgresql":
        return dialect
    numbered = type(dialect)(paramstyle="numeric_dollar")
    numbered.server_version_info = dialect.server_version_info
    return numbered


def _bound(form: _Compiled, parameters: dict):
    if form.constants or form.converters:
        parameters = {**form.constants, **parameters}
        for name, convert in form.converters:
            parameters[name] = convert(parameters[name])
    if form.positions is not None:
        return tuple(parameters[name] for name in form.positions)
    return parameters


def _read(form: _Compiled, row) -> dict[str, Any]:
    return {name: value if reader is None or value is None else reader(value)
            for name, reader, value in zip(form.columns, form.readers, row)}


@contextmanager
def as_sqlalchemy_errors(connection: Connection, sql: str | None, parameters):
    """The driver's error as SQLAlchemy's. A lost connection is handled as SQLAlchemy handles it:
    the connection is discarded, and so is every pooled one opened before it (a server restart
    took them all; each would fail its next statement otherwise)."""
    dialect = connection.dialect
    try:
        yield
    except dialect.loaded_dbapi.Error as error:
        gone = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
        if gone:
            connection.engine.pool._invalidate(connection.connection, error, _checkin=False)
            connection.invalidate(error)
        raise DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error,
                                  connection_invalidated=gone, dialect=dialect) from error
