"""One durable queue for all work that is leased, retried with backoff and dead-lettered: service
jobs, the mail outbox, and whatever comes next (document rendering, dunning runs, payment
imports). Each kind keeps its own table, with the shared columns (runtime.models.QueueItem), and
declares itself once as a named `Queue`; this module is the one implementation of its life:

- claim: due items, or claimed items whose lease ran out or whose worker is gone (runtime.workers),
  become claimed with a lease, counted as an attempt and named as this worker's claims;
  `FOR UPDATE SKIP LOCKED` lets workers claim side by side on PostgreSQL;
- an outcome is recorded only by the attempt that holds the claim (a claim taken over meanwhile
  has another attempt count): done, or failed: again after base * 2**(attempt-1) seconds (capped),
  or, after the last attempt or a permanent failure, a dead letter: an `incident` row ops see;
- release: claims of a batch that broke off are free at once rather than after their lease;
- retry: ops run a dead item again after a fix, once (its incident is resolved by whoever did).

The tables stay apart, one per kind: each kind's claim scans only its own (state, next_attempt_at)
index, a job's claim joins its instance and its outcome is written together with the instance's
progress (one pipelined round trip), and the rows stay narrow. One wide table would add a kind
column to every index and mostly-empty columns to every row for no gain in what is shared, which is
the code, not the rows.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, Table, Update, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kernel.clock import utcnow
from kernel.db import table_of, transaction
from kernel.errors import Conflict, Forbidden, NotFound
from kernel.principal import Principal
from runtime.models import Incident
from runtime.store import audit, core
from runtime.workers import CLAIMANT, Claimant, claimable_again, current_claimant


@dataclass(frozen=True)
class States:
    """What a queue's table calls waiting, claimed, finished and dead."""
    ready: str = "ready"
    claimed: str = "running"
    done: str = "done"
    dead: str = "dead"


@dataclass(frozen=True)
class Policy:
    """How a queue retries, given by its settings when work is claimed or fails. None for
    max_attempts or backoff_base_seconds: the row's own column says (service jobs carry theirs)."""
    lease_seconds: float
    backoff_max_seconds: float
    max_attempts: int | None = None
    backoff_base_seconds: float | None = None
    per_item_lease_seconds: float = 0.0  # added to the lease for every item of the batch
    # an item claimed again after `max_attempts` attempts whose workers all died without an outcome
    # is a dead letter rather than one more attempt (mail: a message that kills its sender); needs
    # max_attempts. Service jobs leave it off, as they always did: only a recorded failure ends a job.
    dead_when_claimed_exhausted: bool = False


@dataclass(frozen=True)
class Queue:
    """A named queue: its table (an ORM class with the QueueItem columns), its states, and how it
    tells ops about an item. `scope` narrows the claimable rows (a service job only while its
    instance runs); `describe` gives an incident's fields besides queue, item, error and attempts
    (at least `operation`); `on_failure(session, row, error, dead)` and `on_retry(session, row,
    incident, who)` add the queue's own audit rows."""
    name: str
    model: Any
    states: States
    describe: Callable[[Any], dict[str, Any]]
    scope: Callable[[Select[Any]], Select[Any]] = lambda statement: statement
    on_failure: Callable[..., None] | None = None
    on_retry: Callable[..., None] | None = None

    @property
    def table(self) -> Table:
        return table_of(self.model)


_QUEUES: dict[str, Queue] = {}


def register(queue: Queue) -> Queue:
    """Declare a queue (once, where its table is declared); its dead letters are then listed and retried."""
    if _QUEUES.get(queue.name, queue) is not queue:
        raise ValueError(f"a queue named {queue.name} is declared already")
    _QUEUES[queue.name] = queue
    return queue


def queue_named(name: str) -> Queue:
    try:
        return _QUEUES[name]
    except KeyError:
        raise NotFound(f"no queue {name}") from None


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """The wait after failed attempt number `attempt` (1, 2, …): base, 2·base, 4·base … at most cap."""
    return min(base * 2.0 ** (attempt - 1), cap)


def after_failure(attempt: int, max_attempts: int, permanent: bool = False) -> str:
    """`dead` after the last attempt or a permanent failure, else `retry`."""
    return "dead" if permanent or attempt >= max_attempts else "retry"


# ------------------------------------------------------------------ claiming
def claimable(queue: Queue, now: datetime, claimant: str | None = None) -> ColumnElement[bool]:
    """SQL: ready and due, or claimed with a lease that ran out or a worker that is gone."""
    t, s = queue.table.c, queue.states
    return or_(and_(t.state == s.ready, t.next_attempt_at <= now),
               and_(t.state == s.claimed, or_(t.locked_until < now, claimable_again(t.claimed_by, now, claimant))))


def has_due(session: Session, queue: Queue) -> bool:
    statement = queue.scope(select(queue.table.c.id)).where(claimable(queue, utcnow(), current_claimant()))
    return session.scalar(statement.limit(1)) is not None


@dataclass
class Claim:
    """A claimed item: its id, the attempt now running (its outcome is recorded under it), and the
    columns its queue asked for."""
    id: int
    attempt: int
    row: Any


def claim(factory: sessionmaker[Session], queue: Queue, policy: Policy, limit: int,
          columns: tuple[ColumnElement[Any], ...] = (), claimed_by: str | None | Claimant = CLAIMANT) -> list[Claim]:
    """Up to `limit` items become claimed, leased and named as this worker's claims (by default the
    worker present in this thread, if any)."""
    now = utcnow()
    claimed_by = current_claimant() if claimed_by is CLAIMANT else claimed_by
    t = queue.table.c
    with transaction(factory) as session:
        rows = core(session).execute(
            queue.scope(select(t.id, t.attempts, *columns)).where(claimable(queue, now, claimed_by))
            .order_by(t.next_attempt_at, t.id).limit(limit).with_for_update(skip_locked=True, of=queue.table)).all()
        if policy.dead_when_claimed_exhausted:
            exhausted = [row for row in rows if row.attempts >= policy.max_attempts]
            for row in exhausted:
                item = session.get_one(queue.model, row.id)  # (just read, and locked)
                item.last_error = f"no outcome after {row.attempts} attempts (the worker stopped each time)"
                _bury(session, queue, item, item.last_error)
            rows = [row for row in rows if row.attempts < policy.max_attempts]
        if rows:
            lease = timedelta(seconds=policy.lease_seconds + policy.per_item_lease_seconds * len(rows))
            core(session).execute(update(queue.table).where(t.id.in_([row.id for row in rows]))
                                  .values(state=queue.states.claimed, attempts=t.attempts + 1,
                                          locked_until=now + lease, claimed_by=claimed_by))
        return [Claim(row.id, row.attempts + 1, row) for row in rows]


def still_claimed(queue: Queue, state: str, attempts: int, attempt: int) -> bool:
    """Whether an item read in this transaction is still held by the claim of `attempt`."""
    return state == queue.states.claimed and attempts == attempt


def done_values(queue: Queue) -> dict[str, Any]:
    """The columns of an item that succeeded (written by its queue, with its own)."""
    return {"state": queue.states.done, "locked_until": None, "last_error": None}


def record_done(session: Session, queue: Queue, item_id: int, attempt: int, **values: Any) -> bool:
    """The claimed item succeeded (False: the claim was taken over or the item cancelled meanwhile)."""
    t = queue.table.c
    changed = cast(CursorResult[Any], core(session).execute(
        update(queue.table).where(t.id == item_id, t.state == queue.states.claimed, t.attempts == attempt)
        .values(**done_values(queue), **values)))
    return changed.rowcount == 1


def record_failure(session: Session, queue: Queue, policy: Policy, item_id: int, attempt: int, error: str,
                   last_error: str | None = None, permanent: bool = False) -> tuple[str, Any]:
    """The claimed item failed: (`retry` or `dead` or `lost`, its row). `last_error` is what the row
    keeps (a traceback, say), `error` what the incident shows."""
    row = session.scalar(select(queue.model).where(queue.model.id == item_id).with_for_update())
    if row is None or not still_claimed(queue, row.state, row.attempts, attempt):
        return "lost", row
    row.last_error, row.locked_until = (error if last_error is None else last_error), None
    max_attempts = row.max_attempts if policy.max_attempts is None else policy.max_attempts
    outcome = after_failure(row.attempts, max_attempts, permanent)
    if queue.on_failure is not None:
        queue.on_failure(session, row, error, outcome == "dead")
    if outcome == "dead":
        _bury(session, queue, row, error)
        return "dead", row
    base = row.backoff_base if policy.backoff_base_seconds is None else policy.backoff_base_seconds
    row.state = queue.states.ready
    row.next_attempt_at = utcnow() + timedelta(seconds=backoff_seconds(row.attempts, base, policy.backoff_max_seconds))
    return "retry", row


def _bury(session: Session, queue: Queue, row: Any, error: str) -> None:
    """A dead letter: the item stays, dead, and an incident tells ops about it."""
    row.state, row.locked_until = queue.states.dead, None
    session.add(Incident(queue=queue.name, item_id=row.id, error=error, attempts=row.attempts, **queue.describe(row)))


_RELEASE: dict[str, Update] = {}


def release(factory: sessionmaker[Session], queue: Queue, claims: list[tuple[int, int]]) -> None:
    """Claims (id, attempt) of a batch that broke off, still without an outcome: free for any worker now."""
    if not claims:
        return
    statement = _RELEASE.get(queue.name)
    if statement is None:
        t = queue.table.c
        statement = _RELEASE[queue.name] = update(queue.table).where(
            t.id == bindparam("item"), t.state == queue.states.claimed, t.attempts == bindparam("attempt")) \
            .values(locked_until=bindparam("until"))
    until = utcnow() - timedelta(seconds=1)
    with transaction(factory) as session:
        core(session).execute(statement, [{"item": item, "attempt": attempt, "until": until}
                                          for item, attempt in claims])


# ------------------------------------------------------------------ ops: dead letters run again
def retry_incident(session: Session, incident_id: int, who: Principal) -> Incident:
    """After a fix: the incident's item gets a fresh set of attempts, due now. Once: an incident
    retried already, or whose item is no longer dead, is a conflict."""
    _require_ops(who)
    incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    if incident.resolved_at is not None:
        raise Conflict(f"incident {incident_id} was retried already by {incident.resolved_by}")
    queue = queue_named(incident.queue)
    row = session.scalar(select(queue.model).where(queue.model.id == incident.item_id).with_for_update())
    if row is None or row.state != queue.states.dead:
        raise Conflict(f"the item of incident {incident_id} is {row.state if row else 'gone'}")
    _run_again(session, queue, row, incident, who)
    return incident


def retry_item(session: Session, queue_name: str, item_id: int, who: Principal) -> Any:
    """The same for a dead item named by its queue and id (its open incident, if any, is resolved)."""
    _require_ops(who)
    queue = queue_named(queue_name)
    row = session.scalar(select(queue.model).where(queue.model.id == item_id).with_for_update())
    if row is None:
        raise NotFound(f"{queue_name} item {item_id} not found")
    if row.state != queue.states.dead:
        raise Conflict(f"{queue_name} item {item_id} is {row.state}; only dead letters run again")
    incident = session.scalar(select(Incident).where(Incident.queue == queue.name, Incident.item_id == item_id,
                                                     Incident.resolved_at.is_(None)).with_for_update())
    _run_again(session, queue, row, incident, who)
    return row


def _require_ops(who: Principal) -> None:
    if not who.has_any("ops"):  # (admins too) checked here as well as at the door: this is where work runs again
        raise Forbidden("only ops run a dead letter again")


def _run_again(session: Session, queue: Queue, row: Any, incident: Incident | None, who: Principal) -> None:
    row.state, row.attempts, row.next_attempt_at = queue.states.ready, 0, utcnow()
    row.locked_until = row.last_error = None  # (the incident keeps the error)
    if incident is not None:
        incident.resolved_at, incident.resolved_by = utcnow(), who.username
    if queue.on_retry is not None:
        queue.on_retry(session, row, incident, who)
    else:
        audit(session, None, "incident_retried", who.username, None, queue=queue.name, item=row.id,
              incident=incident.id if incident is not None else None)
