"""Passwords: argon2 hashes, and the gate that bounds how many of them a process computes at once.

One argon2 hash takes tens of milliseconds of CPU and 64 MiB of memory. Sixteen logins at once used
to occupy every worker thread and slowed every other request to seconds; the gate lets a few hash
at a time and tells the rest, after a short wait, to come back (503 with Retry-After)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kernel.errors import Busy

MIN_LENGTH = 8
MAX_LENGTH = 1024  # a new password; longer ones only cost hashing time
_hasher = PasswordHasher()


def new_password_problems(password: str, field: str = "password", current: str | None = None) -> list[dict]:
    """What is wrong with a new password, as error details naming `field` (empty: nothing)."""
    if len(password) < MIN_LENGTH:
        return [{"field": field, "message": f"at least {MIN_LENGTH} characters"}]
    if len(password) > MAX_LENGTH:
        return [{"field": field, "message": f"at most {MAX_LENGTH} characters"}]
    if current is not None and password == current:
        return [{"field": field, "message": "is the current password"}]
    return []


def configure_hashing(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """The cost of new hashes in this process (KONTOR_PASSWORD_HASH_TIME_COST, _MEMORY_KIB,
    _PARALLELISM; bootstrap() sets them). Stored hashes are verified with their own parameters."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _no_user_hash.cache_clear()


@cache
def _no_user_hash() -> str:
    """Verified against when there is no user to check, so a wrong name costs as long as a wrong password."""
    return _hasher.hash("kontor-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether the password fits the hash; with no hash (no such user) it is checked against a
    stand-in all the same, so that the answer takes as long."""
    try:
        return _hasher.verify(stored_hash or _no_user_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class PasswordGate:
    """At most `slots` password hashes at once in this process (KONTOR_PASSWORD_HASH_SLOTS). A caller
    waits up to `wait_seconds` for a slot (KONTOR_PASSWORD_HASH_WAIT_SECONDS), then gets Busy; so
    does one that finds WAITING_PER_SLOT callers per slot waiting already, so that waiting logins
    never hold more than a few of the server's worker threads."""
    WAITING_PER_SLOT = 8

    def __init__(self, slots: int, wait_seconds: float):
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.waiting = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self.waiting >= self.WAITING_PER_SLOT * self.slots:
                raise Busy("too many logins at the same moment; try again in a second", retry_after_seconds=1)
            self.waiting += 1
        try:
            acquired = self._free.acquire(timeout=self.wait_seconds)
        finally:
            with self._lock:
                self.waiting -= 1
        if not acquired:
            raise Busy("too many logins at the same moment; try again in a second", retry_after_seconds=1)
        try:
            yield
        finally:
            self._free.release()
