"""Load an instance's workflow and save its progress: state, variables and the index of what
waits (runtime.wait_index) are written in the caller's transaction, sent to the database
together. Messages buffered for a subscription that just opened are delivered here too."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kernel.clock import utcnow
from kernel.driver_sql import Batch, DriverStatement
from runtime.engine import ProcessError, ProcessSpec, Snapshot, canonical_correlation
from kernel.errors import Conflict
from runtime.models import Message, ProcessInstance
from runtime.runtime import ProcessRuntime
from runtime.store import (attach, audit, audit_event, core, insert_instance, jsonable, lock_correlation, pipelined,
                           send_instance_update, write_events)
from runtime.wait_index import remember, remember_waiting, remembered, settled, write_index

_MESSAGE = Message.__table__
_OLDEST_BUFFERED = DriverStatement(
    select(_MESSAGE).where(_MESSAGE.c.status == "buffered", _MESSAGE.c.name == bindparam("row_name"),
                           _MESSAGE.c.correlation_key == bindparam("row_key"), _MESSAGE.c.expires_at > bindparam("row_now"))
    .order_by(_MESSAGE.c.received_at, _MESSAGE.c.id).limit(1).with_for_update(skip_locked=True))
_MARK_DELIVERED = DriverStatement(update(_MESSAGE).where(_MESSAGE.c.id == bindparam("row_id")))

__all__ = ["audit", "audit_event", "jsonable", "load_workflow", "save_progress", "start_progress", "settled",
           "remember_waiting", "require_running", "deliver", "message_expiry", "BusinessKeyTaken"]


class BusinessKeyTaken(Exception):
    """Another instance of the process has this business key (started concurrently)."""


def load_workflow(session: Session, runtime: ProcessRuntime, instance: ProcessInstance):
    """The instance's workflow, with what it waits for remembered, so that saving it later only
    touches the index rows that changed (the index is a function of the stored state)."""
    spec = runtime.spec(session, instance.definition_id)
    kept = runtime.workflows.take(instance.id, instance.definition_id, instance.state)
    if kept is not None:
        workflow, waiting = kept
        remember(session, instance.id, waiting)
        return workflow, spec
    workflow = runtime.engine.load(instance.state, spec)
    remember_waiting(session, instance.id, runtime.engine.snapshot(workflow, spec))
    return workflow, spec


def require_running(instance: ProcessInstance) -> None:
    if instance.status != "running":
        raise Conflict(f"process instance {instance.id} is {instance.status}", instance_status=instance.status)


def start_progress(session: Session, runtime: ProcessRuntime, values: dict, workflow, spec: ProcessSpec,
                   actor: str, events_of=lambda instance_id: []) -> ProcessInstance:
    """Insert a new instance with its first state and index, in one statement for the row.
    `values` are its columns besides state, variables and status; `events_of(id)` gives the audit
    rows of its start. A business key taken meanwhile raises BusinessKeyTaken (nothing is kept)."""
    now = utcnow()
    snapshot = runtime.engine.snapshot(workflow, spec, now)
    state_columns, faithful = _state_columns(runtime, workflow, now)
    row = {**values, **state_columns, "started_at": now,
           "status": "completed" if snapshot.completed else "running", "ended_at": now if snapshot.completed else None}
    if values.get("business_key") is None:
        instance = insert_instance(session, row)
    else:  # the same key started concurrently: the first instance counts
        try:
            with session.begin_nested():
                instance = insert_instance(session, row)
        except IntegrityError as exc:
            raise BusinessKeyTaken(values["business_key"]) from exc
    events = list(events_of(instance.id))
    if snapshot.completed:
        events.append(audit_event(instance.id, "instance_completed", actor))
    remember_waiting(session, instance.id, None)
    with pipelined(session):
        found = _write_index(session, runtime, instance, snapshot, now, events, (), frozenset())
    _keep(session, runtime, instance, workflow, faithful)
    _deliver_buffered(session, runtime, instance, workflow, spec, snapshot, found, actor)
    return instance


def save_progress(session: Session, runtime: ProcessRuntime, instance: ProcessInstance, workflow,
                  spec: ProcessSpec, actor: str, recheck_buffered: bool = False, events: list[dict] = (),
                  writes: list[tuple] = ()) -> None:
    """Write state, index, the step's audit rows (`events`, see audit_event) and the step's other
    writes (`writes`: (DriverStatement, parameters) whose results nobody reads, e.g. the job row marked
    done); then hand over buffered messages that now have a subscriber (those of new
    subscriptions; with recheck_buffered, of every subscription: after a resume, messages that
    arrived while the instance was suspended were buffered)."""
    every = frozenset(remembered(session, instance.id).messages) if recheck_buffered else frozenset()
    snapshot, found = _write(session, runtime, instance, workflow, spec, actor, list(events), writes, every)
    _deliver_buffered(session, runtime, instance, workflow, spec, snapshot, found, actor)


def _write(session, runtime, instance, workflow, spec, actor, events: list[dict], writes,
           look_up: frozenset) -> tuple[Snapshot, dict]:
    """The instance's row, its index, audit rows and `writes`, and the look-up of buffered
    messages for the subscriptions that need one: all sent together. Returns the snapshot and
    the buffered messages found (see _write_index)."""
    now = utcnow()
    snapshot = runtime.engine.snapshot(workflow, spec, now)
    values, faithful = _state_columns(runtime, workflow, now)
    if snapshot.completed and instance.status == "running":
        values.update(status="completed", ended_at=now)
        events.append(audit_event(instance.id, "instance_completed", actor))
    sent = None
    try:
        with pipelined(session):
            sent = send_instance_update(session, instance, values)
            found = _write_index(session, runtime, instance, snapshot, now, events, writes, look_up)
    except DBAPIError as error:
        if sent is not None and sent.moved_on:
            raise sent.conflict() from error
        raise
    sent.confirm()
    _keep(session, runtime, instance, workflow, faithful)
    return snapshot, found


def _write_index(session, runtime, instance, snapshot: Snapshot, now, events: list[dict], writes,
                 look_up: frozenset) -> dict:
    """The step's other writes, index rows and audit rows (those that depend on no other write as
    one batch), then the look-up of the oldest buffered message for each subscription just opened
    (its correlation lock is taken when it opens) and for those in `look_up` (locked here). The
    look-ups are read when the caller's pipeline has been sent: {task id: (its wait, the result)}."""
    connection = core(session)
    batch = Batch()
    for statement, parameters in writes:
        batch.add(connection, statement, parameters)
    opened = write_index(session, connection, runtime, instance, snapshot, now, batch)
    write_events(session, events, batch)
    batch.execute(connection)
    if _status_after(instance, snapshot) != "running":
        return {}
    found = {}
    for wait in snapshot.messages:
        if wait.task_id not in opened and wait.task_id not in look_up:
            continue  # looked for when the subscription opened; later messages find the subscription
        key = canonical_correlation(jsonable(wait.correlation))
        if wait.task_id not in opened:
            lock_correlation(connection, wait.message_name, key)
        found[wait.task_id] = (wait, _OLDEST_BUFFERED.execute(
            connection, {"row_name": wait.message_name, "row_key": key, "row_now": now}))
    return found


def _status_after(instance: ProcessInstance, snapshot: Snapshot) -> str:
    """The status the instance has once this step is saved."""
    return "completed" if snapshot.completed and instance.status == "running" else instance.status


def _deliver_buffered(session, runtime, instance, workflow, spec, snapshot: Snapshot, found: dict, actor) -> None:
    """Hand each subscription that is still open the buffered message found for it, one after
    another: each delivery is saved (and may open new subscriptions or close others). A message
    found for two subscriptions goes to the first; the second looks again."""
    found = {task_id: (wait, result.first()) for task_id, (wait, result) in found.items()}  # (the rows)
    for _ in range(100):  # a process is not an infinite message loop
        open_waits = {m.task_id for m in snapshot.messages} if instance.status == "running" else set()
        ready = [(task_id, wait, row) for task_id, (wait, row) in found.items() if row and task_id in open_waits]
        if not ready:
            return
        task_id, wait, row = ready[0]
        taken = {other for other, (_, other_row) in found.items() if other_row and other_row["id"] == row["id"]}
        found = {other: entry for other, entry in found.items() if other not in taken}
        message = attach(session, row, Message)  # (the session's object, should it hold this message already)
        event, write = deliver(session, runtime, instance, workflow, wait.task_id, wait.spec_name, message, actor)
        snapshot, more = _write(session, runtime, instance, workflow, spec, actor, [event], [write],
                                frozenset(taken - {task_id}))
        found.update({other: (other_wait, result.first()) for other, (other_wait, result) in more.items()})
    raise ProcessError("more than 100 buffered messages delivered in one step")


def _state_columns(runtime, workflow, now) -> tuple[dict, bool]:
    """The row's state columns, and whether the workflow equals what loading its state gives."""
    state, faithful = runtime.engine.dump_faithful(workflow)
    return {"state": state, "variables": jsonable(runtime.engine.variables(workflow)), "updated_at": now}, faithful


def _keep(session, runtime, instance, workflow, faithful: bool) -> None:
    """The saved workflow stays in memory for the instance's next step, once this one commits
    (only if it is exactly what loading its state would give)."""
    if instance.status == "running" and faithful:
        runtime.workflows.keep_after_commit(session, instance.id, instance.definition_id, instance.state, workflow,
                                            remembered(session, instance.id))


def deliver(session, runtime, instance, workflow, task_id: str, spec_name: str, message,
            actor: str) -> tuple[dict, tuple]:
    """Hand a message (its row or ORM object) to the waiting task; returns the audit row and the
    write that marks the message delivered, both for the step's save."""
    runtime.engine.deliver_message(workflow, task_id, message.name, message.data or {})
    delivered = {"status": "delivered", "delivered_at": utcnow(), "instance_id": instance.id}
    if isinstance(message, Message):
        for name, value in delivered.items():
            set_committed_value(message, name, value)
    event = audit_event(instance.id, "message_correlated", actor, spec_name,
                        message=message.name, message_id=message.message_id, correlation=message.correlation)
    return event, (_MARK_DELIVERED, {**delivered, "row_id": message.id})


def message_expiry(runtime: ProcessRuntime, ttl_seconds: int | None) -> datetime:
    ttl = runtime.settings.message_ttl_seconds if ttl_seconds is None else ttl_seconds
    return datetime.now(timezone.utc) + timedelta(seconds=ttl)
