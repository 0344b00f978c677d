"""Changing a record's state: the one function that assigns the state of a record with a declared
lifecycle (offers, orders, leads, customers; see kernel.lifecycle and each model's `lifecycle`).
An opportunity's state (open, won, lost) follows from its phase: its moves are checked here too.

It checks the move against the declaration, sets the state and writes the trace that goes with it
(the customer's timeline), all in the caller's transaction. The business checks that come before a
move (who may, what must hold first) stay with the commands that know them and keep their own
wording; this check is the last line: a move the declaration does not allow is a Conflict however
the code reached it. tests/test_lifecycles.py fails the suite when code in domain/ assigns a state
field anywhere else."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from domain.customers.timeline import record_trace
from kernel.errors import Conflict
from kernel.lifecycle import Lifecycle, Transition


@dataclass(frozen=True)
class TraceEntry:
    """The timeline entry a move writes: kind, actor and summary as record_trace takes them. By
    default it is filed under the record's customer and refers to the record itself."""
    kind: str
    actor: str
    summary: str
    customer_id: int | None = None  # default: the record's customer
    ref: tuple[str, int] | None = None  # default: (the lifecycle's record name, the record's id)
    details: dict = field(default_factory=dict)


def lifecycle_of(record) -> Lifecycle:
    lifecycle = getattr(type(record), "lifecycle", None)
    if not isinstance(lifecycle, Lifecycle):
        raise TypeError(f"{type(record).__name__} declares no lifecycle")
    return lifecycle


def describe(record) -> str:
    """How a refusal names the record: "offer OFF-2026-0012", "customer V-000012", "lead 7"."""
    lifecycle = lifecycle_of(record)
    return f"{lifecycle.record} {getattr(record, 'label', None) or getattr(record, 'number', None) or record.id}"


def check_move(record, current: str, to: str) -> Transition | None:
    """Whether the record's lifecycle lets it go from `current` to `to` (staying is no move: None);
    a move it does not declare is a Conflict naming the record, the state it is in and the state
    asked for. change_state asks this; a record whose state follows from other data (an
    opportunity's phase) asks it itself before it moves."""
    lifecycle = lifecycle_of(record)
    if not lifecycle.allows(current, to):
        raise Conflict(f"{describe(record)} cannot go from {current} to {to}")
    return lifecycle.transition(current, to)


def change_state(session: Session, record, to: str, trace: TraceEntry | None = None) -> Transition | None:
    """Move the record into state `to` and write its trace; returns the declared move (None when the
    record stays where it is, which is no move: its trace is still written, as the caller did
    something). Refuses a move its lifecycle does not declare (check_move)."""
    lifecycle = lifecycle_of(record)
    if lifecycle.field is None:
        raise TypeError(f"a {lifecycle.record}'s state follows from other data; it is not set")
    current = getattr(record, lifecycle.field)
    transition = check_move(record, current, to)
    if current != to:
        setattr(record, lifecycle.field, to)
    if trace is not None:
        customer_id = trace.customer_id if trace.customer_id is not None else record.customer_id
        ref_type, ref_id = trace.ref or (lifecycle.record, record.id)
        record_trace(session, customer_id, trace.kind, trace.actor, trace.summary, ref_type, ref_id, **trace.details)
    return transition
