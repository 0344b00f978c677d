"""Load an instance's workflow and save its progress: state, variables and the index of what
waits (human tasks, subscriptions, timers, service jobs) are written in the caller's transaction.
Messages buffered for a subscription that just opened are delivered here too."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, delete, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kontor.db import utcnow
from kontor.driver_sql import DriverStatement
from runtime.engine import ProcessError, ProcessSpec, Snapshot, canonical_correlation
from runtime.errors import Conflict
from runtime.models import (HumanTask, HumanTaskGroup, Message, MessageSubscription, ProcessInstance, ServiceJob,
                            Timer)
from runtime.runtime import ProcessRuntime
from runtime.store import (attach, audit, audit_event, core, insert_instance, jsonable, lock_correlation, pipelined,
                           update_instance, write_events)

_MESSAGE = Message.__table__
_HUMAN_TASK, _TASK_GROUP = HumanTask.__table__, HumanTaskGroup.__table__
_TIMER, _JOB, _SUBSCRIPTION = Timer.__table__, ServiceJob.__table__, MessageSubscription.__table__
# the statements of every step, built once (parameters named row_* are the WHERE clause's); all
# but the human tasks' insert (several rows read back) run on the driver (see kontor.driver_sql)
_INSERT_TASK = insert(_HUMAN_TASK).returning(_HUMAN_TASK.c.task_id, _HUMAN_TASK.c.id)
_INSERT_TASK_GROUP, _INSERT_TIMER, _INSERT_JOB, _INSERT_SUBSCRIPTION = (  # inline: sent in the step's pipeline
    DriverStatement(insert(table).inline()) for table in (_TASK_GROUP, _TIMER, _JOB, _SUBSCRIPTION))
_DELETE_SUBSCRIPTION = DriverStatement(delete(_SUBSCRIPTION).where(
    _SUBSCRIPTION.c.instance_id == bindparam("row_instance"), _SUBSCRIPTION.c.task_id == bindparam("row_task")))
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
        session.info.setdefault(_WAITING_KEY, {})[instance.id] = waiting
        return workflow, spec
    workflow = runtime.engine.load(instance.state, spec)
    remember_waiting(session, instance.id, runtime.engine.snapshot(workflow, spec))
    return workflow, spec


def remember_waiting(session: Session, instance_id: int, snapshot: Snapshot | None) -> None:
    """What the index holds for this instance now (None: nothing, a new instance)."""
    session.info.setdefault(_WAITING_KEY, {})[instance_id] = _Waiting.of(snapshot)


def settled(session: Session, instance_id: int, task_id: str) -> None:
    """The caller has finished this task's index row itself (a completed human task or job): the
    next save need not close it again."""
    known = session.info[_WAITING_KEY][instance_id]
    session.info[_WAITING_KEY][instance_id] = _Waiting(known.human - {task_id}, known.timers, known.jobs - {task_id},
                                                       known.messages)


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
    opened = _write_index(session, runtime, instance, snapshot, now, events)
    _keep(session, runtime, instance, workflow, faithful)
    _deliver_buffered(session, runtime, instance, workflow, spec, snapshot, opened, actor, False)
    return instance


def save_progress(session: Session, runtime: ProcessRuntime, instance: ProcessInstance, workflow,
                  spec: ProcessSpec, actor: str, recheck_buffered: bool = False, events: list[dict] = (),
                  writes: list[tuple] = ()) -> None:
    """Write state, index, the step's audit rows (`events`, see audit_event) and the step's other
    writes (`writes`: (DriverStatement, parameters) whose results nobody reads, e.g. the job row marked
    done); then hand over buffered messages that now have a subscriber (those of new
    subscriptions; with recheck_buffered, of every subscription: after a resume, messages that
    arrived while the instance was suspended were buffered)."""
    snapshot, opened = _write(session, runtime, instance, workflow, spec, actor, list(events), writes)
    _deliver_buffered(session, runtime, instance, workflow, spec, snapshot, opened, actor, recheck_buffered)


def _deliver_buffered(session, runtime, instance, workflow, spec, snapshot, opened, actor, recheck: bool) -> None:
    for _ in range(100):  # each delivery may open new subscriptions; a process is not an infinite message loop
        delivered = _take_buffered(session, runtime, instance, workflow, snapshot, opened, actor, recheck)
        if delivered is None:
            return
        event, write = delivered
        snapshot, opened = _write(session, runtime, instance, workflow, spec, actor, [event], [write])
    raise ProcessError("more than 100 buffered messages delivered in one step")


def _state_columns(runtime, workflow, now) -> tuple[dict, bool]:
    """The row's state columns, and whether the workflow equals what loading its state gives."""
    state, faithful = runtime.engine.dump_faithful(workflow)
    return {"state": state, "variables": jsonable(runtime.engine.variables(workflow)), "updated_at": now}, faithful


def _write(session, runtime, instance, workflow, spec, actor, events: list[dict],
           writes=()) -> tuple[Snapshot, frozenset]:
    now = utcnow()
    snapshot = runtime.engine.snapshot(workflow, spec, now)
    values, faithful = _state_columns(runtime, workflow, now)
    if snapshot.completed and instance.status == "running":
        values.update(status="completed", ended_at=now)
        events.append(audit_event(instance.id, "instance_completed", actor))
    update_instance(session, instance, values)
    opened = _write_index(session, runtime, instance, snapshot, now, events, writes)
    _keep(session, runtime, instance, workflow, faithful)
    return snapshot, opened


def _keep(session, runtime, instance, workflow, faithful: bool) -> None:
    """The saved workflow stays in memory for the instance's next step, once this one commits
    (only if it is exactly what loading its state would give)."""
    if instance.status == "running" and faithful:
        runtime.workflows.keep_after_commit(session, instance.id, instance.definition_id, instance.state, workflow,
                                            session.info[_WAITING_KEY][instance.id])


def _write_index(session, runtime, instance, snapshot: Snapshot, now, events: list[dict],
                 writes=()) -> frozenset:
    """Bring the index rows in line with the snapshot and write the step's audit rows and other
    writes, all but the new human tasks (whose ids are read back) in one pipeline; returns the
    subscriptions it opened."""
    known = session.info.get(_WAITING_KEY, {}).get(instance.id)
    if known is None:
        raise RuntimeError(f"instance {instance.id} is saved without being loaded or started in this session")
    new_tasks = _insert_human_tasks(session, instance, known.human, snapshot.human_tasks, now)
    with pipelined(session) as connection:
        for statement, parameters in writes:
            statement.execute(connection, parameters)
        _sync_human_tasks(session, instance, known.human, snapshot.human_tasks, now, new_tasks)
        _sync_timers(session, instance, known.timers, snapshot.timers)
        _sync_jobs(session, runtime, instance, known.jobs, snapshot.service_jobs, now)
        _sync_subscriptions(session, instance, known.messages, snapshot.messages)
        write_events(session, events)
    remember_waiting(session, instance.id, snapshot)
    return frozenset(m.task_id for m in snapshot.messages) - known.messages


def _take_buffered(session, runtime, instance, workflow, snapshot: Snapshot, opened: frozenset, actor,
                   recheck_buffered: bool) -> tuple[dict, tuple] | None:
    """Deliver the oldest buffered message that an open subscription waits for; its audit row and
    write (see deliver)."""
    if instance.status != "running" or not snapshot.messages:
        return None
    now = utcnow()
    for wait in snapshot.messages:
        key = canonical_correlation(jsonable(wait.correlation))
        if wait.task_id not in opened:
            if not recheck_buffered:
                continue  # looked for when the subscription opened; later messages find the subscription
            lock_correlation(session, wait.message_name, key)
        found = _OLDEST_BUFFERED.execute(core(session), {"row_name": wait.message_name, "row_key": key,
                                                         "row_now": now}).first()
        if found is not None:  # (as the session's object, should it hold this message already)
            message = attach(session, found, Message)
            return deliver(session, runtime, instance, workflow, wait.task_id, wait.spec_name, message, actor)
    return None


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


# ------------------------------------------------ the index: only what changed is written
_WAITING_KEY = "kontor_waiting"


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_waits(session: Session, previous_transaction) -> None:
    """After a savepoint rolls back, what an instance waits for is known only by loading it again."""
    if previous_transaction.nested:
        session.info.pop(_WAITING_KEY, None)


@dataclass(frozen=True)
class _Waiting:
    human: frozenset = frozenset()
    timers: dict = field(default_factory=dict)  # task id -> due at
    jobs: frozenset = frozenset()
    messages: frozenset = frozenset()

    @classmethod
    def of(cls, snapshot: Snapshot | None) -> _Waiting:
        if snapshot is None:
            return cls()
        return cls(frozenset(t.task_id for t in snapshot.human_tasks), {t.task_id: t.due_at for t in snapshot.timers},
                   frozenset(j.task_id for j in snapshot.service_jobs), frozenset(m.task_id for m in snapshot.messages))


def _insert_human_tasks(session, instance, known: frozenset, waiting, now) -> list[tuple[dict, int]]:
    """The new open tasks' rows, with the ids the database gave them."""
    rows = [{"instance_id": instance.id, "task_id": info.task_id, "process_key": instance.process_key,
             "spec_name": info.spec_name, "title": info.title, "lane": info.lane, "state": "open",
             "candidate_groups": info.candidate_groups, "form_schema": info.form_schema, "ui_schema": info.ui_schema,
             "documentation": info.documentation, "priority": info.priority, "due_at": info.due_at,
             "follow_up_at": info.follow_up_at, "created_at": now, "assignee": info.assignee, "guard": info.guard}
            for info in waiting if info.task_id not in known]
    if not rows:
        return []
    ids = dict(core(session).execute(_INSERT_TASK, rows).all())
    return [(row, ids[row["task_id"]]) for row in rows]


def _sync_human_tasks(session, instance, known: frozenset, waiting, now, new_tasks) -> None:
    groups = [{"human_task_id": task_id, "group_name": group}
              for row, task_id in new_tasks for group in dict.fromkeys(row["candidate_groups"])]
    _INSERT_TASK_GROUP.execute_many(core(session), groups)
    gone = known - {info.task_id for info in waiting}
    if gone:  # interrupted by a boundary event, or the instance was cancelled; completed ones stay completed
        open_gone = select(_HUMAN_TASK.c.id).where(_HUMAN_TASK.c.instance_id == instance.id,
                                                   _HUMAN_TASK.c.task_id.in_(gone), _HUMAN_TASK.c.state == "open")
        core(session).execute(delete(_TASK_GROUP).where(_TASK_GROUP.c.human_task_id.in_(open_gone)))
        core(session).execute(update(_HUMAN_TASK).where(_HUMAN_TASK.c.instance_id == instance.id,
                                                        _HUMAN_TASK.c.task_id.in_(gone), _HUMAN_TASK.c.state == "open")
                              .values(state="cancelled", ended_at=now))


def _sync_timers(session, instance, known: dict, waiting) -> None:
    rows = []
    for info in waiting:
        if info.task_id not in known:
            rows.append({"instance_id": instance.id, "task_id": info.task_id, "spec_name": info.spec_name,
                         "kind": info.kind, "due_at": info.due_at})
        elif known[info.task_id] != info.due_at:  # a cycle timer moved on to its next due time
            core(session).execute(update(_TIMER).where(_TIMER.c.instance_id == instance.id,
                                                       _TIMER.c.task_id == info.task_id).values(due_at=info.due_at))
    _INSERT_TIMER.execute_many(core(session), rows)
    gone = set(known) - {info.task_id for info in waiting}
    if gone:
        core(session).execute(delete(_TIMER).where(_TIMER.c.instance_id == instance.id, _TIMER.c.task_id.in_(gone)))


def _sync_jobs(session, runtime, instance, known: frozenset, waiting, now) -> None:
    settings = runtime.settings
    rows = [{"instance_id": instance.id, "task_id": info.task_id, "spec_name": info.spec_name,
             "operation": info.operation, "params": jsonable(info.params), "state": "ready", "attempts": 0,
             "max_attempts": info.max_attempts or settings.job_max_attempts,
             "backoff_base": info.backoff_base or settings.job_backoff_base_seconds, "next_attempt_at": now,
             "created_at": now}
            for info in waiting if info.task_id not in known]
    _INSERT_JOB.execute_many(core(session), rows)
    gone = known - {info.task_id for info in waiting}
    if gone:  # e.g. interrupted by a boundary event; a finished job keeps its state
        core(session).execute(update(_JOB).where(_JOB.c.instance_id == instance.id, _JOB.c.task_id.in_(gone),
                                                 _JOB.c.state.in_(("ready", "running", "incident")))
                              .values(state="cancelled", finished_at=now))


def _sync_subscriptions(session, instance, known: frozenset, waiting) -> None:
    rows = []
    for info in waiting:
        if info.task_id not in known:
            key = canonical_correlation(jsonable(info.correlation))
            lock_correlation(session, info.message_name, key)
            rows.append({"instance_id": instance.id, "task_id": info.task_id, "spec_name": info.spec_name,
                         "message_name": info.message_name, "correlation_key": key, "created_at": utcnow()})
    _INSERT_SUBSCRIPTION.execute_many(core(session), rows)
    gone = known - {info.task_id for info in waiting}
    _DELETE_SUBSCRIPTION.execute_many(core(session), [{"row_instance": instance.id, "row_task": task_id}
                                                      for task_id in sorted(gone)])


def message_expiry(runtime: ProcessRuntime, ttl_seconds: int | None) -> datetime:
    ttl = runtime.settings.message_ttl_seconds if ttl_seconds is None else ttl_seconds
    return datetime.now(timezone.utc) + timedelta(seconds=ttl)
