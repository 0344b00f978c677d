"""The runtime's statements sent to PostgreSQL over libpq's pipeline mode, past psycopg's cursors.

A step sends about five statements; through psycopg's cursors and its pipeline each costs some
50 µs of CPU (cursor, query conversion, prepared-statement bookkeeping, one send and several
polls per statement), four times what libpq itself needs. Here the statements of a connection
wait in a queue (StatementQueue) and go to the server together when their results are needed:
all written into libpq's buffer, one flush, one Sync, the results read back in order. Values go
as text, dumped and loaded by psycopg's own adapters (psycopg.adapt.Transformer), so they read
back exactly as through a cursor; each statement is prepared on the server the first time a
connection sends it.

psycopg does not see these statements, so the queue keeps the connection as psycopg expects it:
it begins the transaction with psycopg's own BEGIN when the connection has none (psycopg's
commit and rollback follow libpq's transaction status), and it is sent before anything else
runs on the connection (kernel.driver_sql hooks SQLAlchemy's executions). Outside a pipeline
block every statement is sent at once (kernel.driver_sql.pipeline).
"""
from __future__ import annotations

import select
from typing import Any

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_SYNC, _FATAL, _ABORTED = pq.ExecStatus.PIPELINE_SYNC, pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED
_IDLE = pq.TransactionStatus.IDLE
_TEXT = PyFormat.TEXT
PREPARED_PER_CONNECTION = 256  # statements prepared on the server per connection; the rest are sent unprepared


class Pending:
    """A statement in the queue; its result once the queue has been sent."""
    __slots__ = ("queue", "sql", "values", "prepares", "result", "error")

    def __init__(self, queue: StatementQueue, sql: bytes, values):
        self.queue, self.sql, self.values = queue, sql, values
        self.prepares: bytes | None = None  # the name it is prepared under first, in the same pipeline
        self.result: pq.abc.PGresult | None = None
        self.error: Exception | None = None


class StatementQueue:
    """The statements waiting to go to the server on one psycopg connection."""

    def __init__(self, driver):
        self.driver = driver
        self.held = 0  # depth of the pipeline blocks open on the connection: inside one, sending waits
        self.failed: bytes | None = None  # the statement whose error the last send raised
        self._waiting: list[Pending] = []
        self._transformer = Transformer(driver)
        self._prepared: dict[bytes, bytes] = {}  # statement -> its name on the server
        self._names = 0  # names given so far (a name whose preparation failed is not given again)
        self._formats: dict[int, list] = {}

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(self, sql: bytes, values) -> Pending:
        formats = self._formats.get(len(values))
        if formats is None:
            formats = self._formats[len(values)] = [_TEXT] * len(values)
        pending = Pending(self, sql, self._transformer.dump_sequence(values, formats))
        self._waiting.append(pending)
        return pending

    def discard(self) -> None:
        """Forget what waits (its transaction is being rolled back): reading one of them raises."""
        waiting, self._waiting = self._waiting, []
        _unanswered(waiting, errors.OperationalError("the statement was never sent: its transaction was rolled back"))

    def rows(self, pending: Pending) -> list[tuple]:
        """The rows of a statement that has been answered, as psycopg's loaders read them."""
        result = pending.result
        if result is None or not result.ntuples:
            return []
        self._transformer.set_pgresult(result)
        return self._transformer.load_rows(0, result.ntuples, tuple)

    def send(self) -> None:
        """Send what waits and read every result. The first statement that failed raises its error
        (psycopg's), once the pipeline has been read to its end; those after it were not run."""
        waiting, self._waiting, self.failed = self._waiting, [], None
        if not waiting:
            return
        pgconn = self.driver.pgconn
        naming: dict[bytes, bytes] = {}  # statements prepared by this pipeline
        pgconn.enter_pipeline_mode()
        try:
            begins = pgconn.transaction_status == _IDLE and not self.driver.autocommit
            if begins:  # psycopg's own BEGIN, with the connection's isolation level (psycopg 3.3's method)
                pgconn.send_query_params(self.driver._get_tx_start_command(), None)
            for pending in waiting:
                name = self._prepared.get(pending.sql) or naming.get(pending.sql)
                if name is None and len(self._prepared) + len(naming) < PREPARED_PER_CONNECTION:
                    name = pending.prepares = naming[pending.sql] = b"kontor_%d" % self._names
                    self._names += 1
                    pgconn.send_prepare(name, pending.sql)
                if name is None:
                    pgconn.send_query_params(pending.sql, pending.values)
                else:
                    pgconn.send_query_prepared(name, pending.values)
            pgconn.pipeline_sync()
            results = iter(_communicate(pgconn))
        except BaseException as failure:
            _unanswered(waiting, failure)
            if pgconn.pipeline_status:  # (results left unread: the connection is of no further use)
                try:
                    pgconn.exit_pipeline_mode()
                except errors.Error:
                    pass
            raise
        pgconn.exit_pipeline_mode()
        self._take(waiting, results, begins)

    def _take(self, waiting: list[Pending], results, begins: bool) -> None:
        """Each statement's result (a BEGIN's and a preparation's come before theirs); the first
        error is raised; the statements after it were not run."""
        encoding = self.driver.info.encoding
        first_error = None
        if begins and (began := next(results)).status == _FATAL:
            first_error, self.failed = errors.error_from_result(began, encoding=encoding), b"BEGIN"
        for pending in waiting:
            if pending.prepares is not None:
                prepared = next(results)
                if prepared.status == pq.ExecStatus.COMMAND_OK:
                    self._prepared[pending.sql] = pending.prepares
                elif prepared.status == _FATAL and first_error is None:
                    first_error, self.failed = errors.error_from_result(prepared, encoding=encoding), pending.sql
            result = next(results)
            if result.status == _FATAL and first_error is None:
                first_error, self.failed = errors.error_from_result(result, encoding=encoding), pending.sql
            if first_error is not None:
                pending.error = first_error
            elif result.status == _ABORTED:  # (not without an error before it)
                pending.error = first_error = errors.PipelineAborted("pipeline aborted")
            else:
                pending.result = result
        if first_error is not None:
            raise first_error


def _unanswered(waiting: list[Pending], failure: BaseException) -> None:
    """Statements that got no result are given the error that stopped their pipeline (a lost
    connection: psycopg's OperationalError), so that whoever reads one learns why; an interruption
    that is no database error reads as an OperationalError naming it."""
    if not isinstance(failure, errors.Error):
        failure = errors.OperationalError(f"the statement was not answered: {type(failure).__name__}: {failure}")
    for pending in waiting:
        if pending.result is None and pending.error is None:
            pending.error = failure


def _communicate(pgconn) -> list:
    """Flush what libpq holds for the server, then read the results up to the Sync: one PGresult
    per command sent, in order."""
    socket = pgconn.socket
    while pgconn.flush():  # 1: more to send; the server may need its answers read meanwhile
        if _wait(socket, select.POLLIN | select.POLLOUT) & select.POLLIN:
            pgconn.consume_input()
    results: list[Any] = []
    ended = False  # the last result read ended a command's results
    while True:
        if pgconn.is_busy():
            _wait(socket, select.POLLIN)
            pgconn.consume_input()
            continue
        result = pgconn.get_result()
        if result is None:
            if ended:  # (libpq has nothing more for now)
                _wait(socket, select.POLLIN)
                pgconn.consume_input()
            ended = True
            continue
        ended = False
        if result.status == _SYNC:
            return results
        results.append(result)


def _wait(socket: int, events: int) -> int:
    """Block until the socket is ready for these events (or failed); what it is ready for."""
    poller = select.poll()
    poller.register(socket, events | select.POLLERR | select.POLLHUP)
    return poller.poll()[0][1]  # (without a timeout poll returns once something is ready)
