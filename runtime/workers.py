"""Workers have an identity, and the work they claim names it, so that the work of a worker that
died is taken over without waiting for whole leases.

A worker's name is `KONTOR_WORKER_ID` (default: the host's name); while it runs, it holds a lock
on that name (a file lock in the data folder, which the kernel releases the moment the process
dies). A second worker on the same data folder takes the next free name (`name~2`, `name~3` …), so
a worker started again after a crash gets its old name back. Each start is a new incarnation
(`name:pid:random`); the `worker` row of a name holds its current incarnation and how long it is
alive without a further heartbeat (`alive_until`, moved on every `worker_heartbeat_seconds` by a
thread of its own).

Claimed service jobs and outbox mail carry the incarnation that claimed them (`claimed_by`). A
claim is abandoned, and the work free for any worker at once, when no live incarnation holds it:
- the worker started again under the same name (its row names the new incarnation): at once;
- the worker stopped (its row is deleted when it stops cleanly): at once;
- the worker vanished (no heartbeat for `worker_stale_seconds`): after that long;
- the worker itself claims again (a claim of its own it lost track of: `claimable_again`).
A claim's lease (`locked_until`) still bounds how long a live worker may hold it.
"""
from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Final, TextIO, cast

from sqlalchemy import ColumnElement, CursorResult, String, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from kernel.clock import utcnow
from kernel.db import Base, transaction
from runtime.settings import RuntimeSettings

log = logging.getLogger("kontor.worker")
NAMES_PER_FOLDER = 16  # workers sharing one data folder: name, name~2 … name~16


class Worker(Base):
    __tablename__ = "worker"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    incarnation: Mapped[str] = mapped_column(String(120), unique=True)  # what its claims carry
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    alive_until: Mapped[datetime]  # no heartbeat by then: its claims are abandoned


def abandoned(claimed_by: ColumnElement[str | None], now: datetime) -> ColumnElement[bool]:
    """SQL: the claim names no incarnation that is alive now."""
    alive = select(Worker.name).where(Worker.incarnation == claimed_by, Worker.alive_until >= now)
    return and_(claimed_by.is_not(None), ~exists(alive))


_local = threading.local()  # the worker present in a thread: its loop claims one batch at a time


class Claimant(Enum):
    """The type of CLAIMANT (a sentinel of its own, so that it types apart from names and None)."""
    PRESENT = "the worker present in this thread"


CLAIMANT: Final = Claimant.PRESENT  # a claim function's default: the worker present in this thread


def current_claimant() -> str | None:
    """The incarnation this thread claims work for (None: no worker runs here; claims then wait
    for their lease alone)."""
    presence = getattr(_local, "presence", None)
    return presence.incarnation if presence is not None else None


def claimable_again(claimed_by: ColumnElement[str | None], now: datetime, claimant: str | None) -> ColumnElement[bool]:
    """SQL: a claim whose worker is gone, or one of the claimant's own. A worker claims its next
    batch only when it is done with the last, so a claim of its own still open then is one it lost
    track of (its commit went through, the answer was lost with the connection)."""
    if claimant is None:
        return abandoned(claimed_by, now)
    return or_(claimed_by == claimant, abandoned(claimed_by, now))


class Presence:
    """This process as a worker: its name (locked), its row, its heartbeat."""

    def __init__(self, factory: sessionmaker[Session], settings: RuntimeSettings) -> None:
        self.factory, self.settings = factory, settings
        self.name: str | None = None
        self.incarnation: str | None = None
        self._lock_file: TextIO | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Presence:
        base = (self.settings.worker_id or socket.gethostname())[:60]
        folder = Path(self.settings.data_dir) / "workers"
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(1, NAMES_PER_FOLDER + 1):
            name = base if n == 1 else f"{base}~{n}"
            if self._take_name(folder, name):
                break
        else:
            raise RuntimeError(f"{NAMES_PER_FOLDER} workers named {base} run on this data folder already")
        self._thread = threading.Thread(target=self._beat, name="kontor-worker-heartbeat", daemon=True)
        self._thread.start()
        log.info("worker %s (incarnation %s) is present", self.name, self.incarnation)
        return self

    def _take_name(self, folder: Path, name: str) -> bool:
        lock_file = open(folder / f"{name.replace('/', '_')}.lock", "a+")  # noqa: SIM115 - held while it runs
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            return False
        host, now = socket.gethostname(), utcnow()
        incarnation = f"{name}:{os.getpid()}:{secrets.token_hex(4)}"
        with transaction(self.factory) as session:
            row = session.scalar(select(Worker).where(Worker.name == name).with_for_update())
            if row is not None and row.host != host and row.alive_until >= now:
                lock_file.close()  # a live worker of this name on another host: not ours to take over
                return False
            if row is None:
                row = Worker(name=name)
                session.add(row)
            elif row.incarnation != incarnation:
                log.info("worker %s starts again: the claims of %s are free at once", name, row.incarnation)
            row.incarnation, row.host, row.pid, row.started_at = incarnation, host, os.getpid(), now
            row.alive_until = now + timedelta(seconds=self.settings.worker_stale_seconds)
        self.name, self.incarnation, self._lock_file = name, incarnation, lock_file
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.worker_heartbeat_seconds):
            try:
                with transaction(self.factory) as session:
                    alive_until = utcnow() + timedelta(seconds=self.settings.worker_stale_seconds)
                    # (an UPDATE's result is a CursorResult: the row count)
                    beat = cast(CursorResult[Any], session.execute(
                        update(Worker).where(Worker.incarnation == self.incarnation).values(alive_until=alive_until)))
                    if beat.rowcount == 0:  # the row went (deleted by hand, say): this worker is here again
                        session.execute(delete(Worker).where(Worker.name == self.name))
                        session.add(Worker(name=self.name, incarnation=self.incarnation, host=socket.gethostname(),
                                           pid=os.getpid(), started_at=utcnow(), alive_until=alive_until))
            except Exception as exc:  # noqa: BLE001 - the next beat tries again (a dropped connection)
                log.warning("worker %s: heartbeat failed: %s: %s", self.name, type(exc).__name__, exc)

    def stop(self) -> None:
        """Gone cleanly: the row goes (whatever it still claimed is free at once), and the name."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            with transaction(self.factory) as session:
                session.execute(delete(Worker).where(Worker.incarnation == self.incarnation))
        except Exception as exc:  # noqa: BLE001 - its heartbeat then simply runs out
            log.warning("worker %s: could not sign off: %s", self.name, exc)
        if self._lock_file is not None:
            self._lock_file.close()


@contextmanager
def present(factory: sessionmaker[Session], settings: RuntimeSettings) -> Iterator[Presence]:
    """This thread is a worker while the block runs: work it claims names its incarnation."""
    presence = Presence(factory, settings).start()
    previous, _local.presence = getattr(_local, "presence", None), presence
    try:
        yield presence
    finally:
        _local.presence = previous
        presence.stop()
