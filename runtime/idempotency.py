"""The records behind Idempotency-Key: one row per (principal, key), reserved before the request runs
and completed with its answer.

- A reservation (status NULL) is a lease: `created_at` is when it was taken or last renewed. The
  request holding it renews it while it runs (api/idempotency.py, every third of the lease), so only
  a reservation whose process died or lost the database grows older than the lease; a request that
  finds one takes it over with a conditional UPDATE; of two that try at once, one wins. The answer
  of a request is stored only while it still holds its lease (`created_at` unchanged), so a request
  that lost its lease cannot overwrite the new owner's.
- A record expires `ttl` after its request began: it is never replayed after that; a request that
  meets it takes the row over as if it were new, and expired rows are deleted now and then
  (at most every SWEEP_EVERY per process, on a reservation).
- The request is remembered by a keyed hash (HMAC-SHA-256 under a key derived from the secret for
  this purpose only), so a stored hash tells nothing about the request without the secret."""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from kernel.clock import utcnow
from kernel.db import Base, JSONObject, transaction
from runtime.settings import RuntimeSettings

SWEEP_EVERY = 600.0  # seconds between two deletions of expired records by one process
STORED_HEADERS = ("content-type", "location", "etag")  # a replayed change names the version it made


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("principal", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    headers: Mapped[JSONObject | None]  # the stored answer's headers, by name
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def request_hasher(secret: str) -> Callable[[], hmac.HMAC]:
    """HMAC-SHA-256 under a key for idempotency hashes only (derived from the signing secret)."""
    key = hmac.new(secret.encode(), b"kontor idempotency request hash v1", hashlib.sha256).digest()
    return lambda: hmac.new(key, digestmod=hashlib.sha256)


@dataclass(frozen=True)
class Lease:
    """The reservation this request holds: its answer is stored only while the row still has `since`."""
    principal: str
    key: str
    since: datetime


@dataclass(frozen=True)
class Replay:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    hint: str | None = None  # what the caller should do, shown for the Idempotency-Key field


KEY_REUSED = Refusal(422, "idempotency_key_reused", "this Idempotency-Key was used for another request",
                     "use a new key for a new request")
STILL_RUNNING = Refusal(409, "conflict", "a request with this Idempotency-Key is still running")


def _held(lease: Lease) -> tuple[ColumnElement[bool], ...]:
    """The record's row while the lease is still its request's."""
    return (IdempotencyRecord.principal == lease.principal, IdempotencyRecord.key == lease.key,
            IdempotencyRecord.status_code.is_(None), IdempotencyRecord.created_at == lease.since)


class IdempotencyStore:
    def __init__(self, sessions: sessionmaker[Session], settings: RuntimeSettings):
        self.sessions = sessions
        self.settings = settings
        self._next_sweep = 0.0

    @property
    def ttl(self) -> timedelta:
        return timedelta(hours=self.settings.idempotency_ttl_hours)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.idempotency_lease_seconds)

    def reserve(self, principal: str, key: str, request_hash: str) -> Lease | Replay | Refusal:
        now = utcnow()
        with transaction(self.sessions) as session:
            self._sweep_now_and_then(session, now)
            record = self._find(session, principal, key)
            if record is None:
                try:
                    with session.begin_nested():
                        session.add(IdempotencyRecord(principal=principal, key=key, request_hash=request_hash,
                                                      created_at=now))
                    return Lease(principal, key, now)
                except IntegrityError:  # another request with this key came first: judge by its record
                    record = self._find(session, principal, key)
                    if record is None:
                        return STILL_RUNNING
            expired = record.created_at <= now - self.ttl
            abandoned = record.status_code is None and record.created_at <= now - self.lease
            if expired or abandoned:
                return self._take_over(session, record, request_hash, now)
            if not hmac.compare_digest(record.request_hash, request_hash):
                return KEY_REUSED
            if record.status_code is None:
                return STILL_RUNNING
            return Replay(record.status_code, dict(record.headers or {}), (record.body or "").encode("latin-1"))

    def renew(self, lease: Lease) -> Lease | None:
        """The lease from now on, or None when it is no longer this request's."""
        now = utcnow()
        with transaction(self.sessions) as session:
            renewed = cast(CursorResult[Any], session.execute(  # (an UPDATE's result: the row count)
                update(IdempotencyRecord).where(*_held(lease)).values(created_at=now)))
        return Lease(lease.principal, lease.key, now) if renewed.rowcount == 1 else None

    def finish(self, lease: Lease, status: int | None, headers: list[tuple[str, str]], body: bytes) -> None:
        """Store the answer (not a 5xx: a retry runs again) while the lease is still ours."""
        held = _held(lease)
        with transaction(self.sessions) as session:
            if status is None or status >= 500:
                session.execute(delete(IdempotencyRecord).where(*held))
                return
            kept = {name: value for name, value in headers if name.lower() in STORED_HEADERS}
            session.execute(update(IdempotencyRecord).where(*held).values(
                status_code=status, headers=kept, body=body.decode("latin-1")))

    def _find(self, session: Session, principal: str, key: str) -> IdempotencyRecord | None:
        return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.principal == principal,
                                                              IdempotencyRecord.key == key))

    def _take_over(self, session: Session, record: IdempotencyRecord, request_hash: str,
                   now: datetime) -> Lease | Refusal:
        """The record expired or its request died: this request takes the row, unless another took it first."""
        taken = cast(CursorResult[Any], session.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.id == record.id, IdempotencyRecord.created_at == record.created_at).values(
            request_hash=request_hash, status_code=None, headers=None, body=None, created_at=now)))
        if taken.rowcount != 1:
            return STILL_RUNNING
        return Lease(record.principal, record.key, now)

    def _sweep_now_and_then(self, session: Session, now: datetime) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_EVERY
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - self.ttl))
