"""The index of what an instance waits for: open human tasks (with their candidate groups),
timers, service jobs and message subscriptions, one row each, so that nothing loads every
instance to find work. The index is a function of the stored state: after each step only the
rows that changed are written, against what the index held when the instance was loaded."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, event, insert, select, update
from sqlalchemy.orm import Session

from kernel.clock import utcnow
from kernel.driver_sql import Batch, DriverInsert, DriverStatement
from runtime.engine import Snapshot, canonical_correlation
from runtime.models import HumanTask, HumanTaskGroup, MessageSubscription, ServiceJob, Timer
from runtime.store import jsonable, lock_correlation

_HUMAN_TASK, _TASK_GROUP = HumanTask.__table__, HumanTaskGroup.__table__
_TIMER, _JOB, _SUBSCRIPTION = Timer.__table__, ServiceJob.__table__, MessageSubscription.__table__
# the statements of every step, built once (parameters named row_* are the WHERE clause's); they
# read nothing back, so the step sends them together (runtime.store.pipelined)
_INSERT_TASK, _INSERT_TIMER, _INSERT_JOB, _INSERT_SUBSCRIPTION = (
    DriverInsert(table) for table in (_HUMAN_TASK, _TIMER, _JOB, _SUBSCRIPTION))
_INSERT_TASK_GROUP = DriverStatement(insert(_TASK_GROUP).from_select(
    ["human_task_id", "group_name"],
    select(_HUMAN_TASK.c.id, bindparam("row_group", type_=_TASK_GROUP.c.group_name.type))
    .where(_HUMAN_TASK.c.instance_id == bindparam("row_instance"), _HUMAN_TASK.c.task_id == bindparam("row_task"))))
_DELETE_SUBSCRIPTION = DriverStatement(delete(_SUBSCRIPTION).where(
    _SUBSCRIPTION.c.instance_id == bindparam("row_instance"), _SUBSCRIPTION.c.task_id == bindparam("row_task")))

_WAITING_KEY = "kontor_waiting"


@dataclass(frozen=True)
class Waiting:
    """What the index holds for one instance (task ids; timers with their due times)."""
    human: frozenset = frozenset()
    timers: dict = field(default_factory=dict)  # task id -> due at
    jobs: frozenset = frozenset()
    messages: frozenset = frozenset()

    @classmethod
    def of(cls, snapshot: Snapshot | None) -> Waiting:
        if snapshot is None:
            return cls()
        return cls(frozenset(t.task_id for t in snapshot.human_tasks), {t.task_id: t.due_at for t in snapshot.timers},
                   frozenset(j.task_id for j in snapshot.service_jobs), frozenset(m.task_id for m in snapshot.messages))


def remember_waiting(session: Session, instance_id: int, snapshot: Snapshot | None) -> None:
    """What the index holds for this instance now (None: nothing, a new instance)."""
    session.info.setdefault(_WAITING_KEY, {})[instance_id] = Waiting.of(snapshot)


def remember(session: Session, instance_id: int, waiting: Waiting) -> None:
    session.info.setdefault(_WAITING_KEY, {})[instance_id] = waiting


def remembered(session: Session, instance_id: int) -> Waiting:
    known = session.info.get(_WAITING_KEY, {}).get(instance_id)
    if known is None:
        raise RuntimeError(f"instance {instance_id} is saved without being loaded or started in this session")
    return known


def settled(session: Session, instance_id: int, task_id: str) -> None:
    """The caller has finished this task's index row itself (a completed human task or job): the
    next save need not close it again."""
    known = remembered(session, instance_id)
    remember(session, instance_id, Waiting(known.human - {task_id}, known.timers, known.jobs - {task_id},
                                           known.messages))


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_waits(session: Session, previous_transaction) -> None:
    """After a savepoint rolls back, what an instance waits for is known only by loading it again."""
    if previous_transaction.nested:
        session.info.pop(_WAITING_KEY, None)


def write_index(session: Session, connection, runtime, instance, snapshot: Snapshot, now, batch: Batch) -> frozenset:
    """Bring the index rows in line with the snapshot (on the session's connection, inside the
    step's pipeline; the writes that depend on no other go into the step's batch, the others are
    sent at once); returns the subscriptions it opened, whose correlation locks it has taken."""
    known = remembered(session, instance.id)
    _sync_human_tasks(connection, instance, known.human, snapshot.human_tasks, now)
    _sync_timers(connection, batch, instance, known.timers, snapshot.timers)
    _sync_jobs(connection, batch, runtime, instance, known.jobs, snapshot.service_jobs, now)
    _sync_subscriptions(connection, batch, instance, known.messages, snapshot.messages)
    remember_waiting(session, instance.id, snapshot)
    return frozenset(m.task_id for m in snapshot.messages) - known.messages


def _sync_human_tasks(connection, instance, known: frozenset, waiting, now) -> None:
    """(Sent at once: a task's group rows find the task by its key.)"""
    new = [info for info in waiting if info.task_id not in known]
    _INSERT_TASK.execute(connection, [
        {"instance_id": instance.id, "task_id": info.task_id, "process_key": instance.process_key,
         "spec_name": info.spec_name, "title": info.title, "lane": info.lane, "state": "open",
         "candidate_groups": info.candidate_groups, "form_schema": info.form_schema, "ui_schema": info.ui_schema,
         "documentation": info.documentation, "priority": info.priority, "due_at": info.due_at,
         "follow_up_at": info.follow_up_at, "created_at": now, "assignee": info.assignee,
         "candidate_users": info.candidate_users, "guard": info.guard}
        for info in new])
    for info in new:  # the group rows find their task's id by the task's key (sent after it)
        for group in dict.fromkeys(info.candidate_groups):
            _INSERT_TASK_GROUP.execute(connection, {"row_group": group, "row_instance": instance.id,
                                                    "row_task": info.task_id})
    gone = known - {info.task_id for info in waiting}
    if gone:  # interrupted by a boundary event, or the instance was cancelled; completed ones stay completed
        open_gone = select(_HUMAN_TASK.c.id).where(_HUMAN_TASK.c.instance_id == instance.id,
                                                   _HUMAN_TASK.c.task_id.in_(gone), _HUMAN_TASK.c.state == "open")
        connection.execute(delete(_TASK_GROUP).where(_TASK_GROUP.c.human_task_id.in_(open_gone)))
        connection.execute(update(_HUMAN_TASK).where(_HUMAN_TASK.c.instance_id == instance.id,
                                                     _HUMAN_TASK.c.task_id.in_(gone), _HUMAN_TASK.c.state == "open")
                           .values(state="cancelled", ended_at=now))


def _sync_timers(connection, batch, instance, known: dict, waiting) -> None:
    rows = []
    for info in waiting:
        if info.task_id not in known:
            rows.append({"instance_id": instance.id, "task_id": info.task_id, "spec_name": info.spec_name,
                         "kind": info.kind, "due_at": info.due_at})
        elif known[info.task_id] != info.due_at:  # a cycle timer moved on to its next due time
            connection.execute(update(_TIMER).where(_TIMER.c.instance_id == instance.id,
                                                       _TIMER.c.task_id == info.task_id).values(due_at=info.due_at))
    batch.add_rows(connection, _INSERT_TIMER, rows)
    gone = set(known) - {info.task_id for info in waiting}
    if gone:
        connection.execute(delete(_TIMER).where(_TIMER.c.instance_id == instance.id, _TIMER.c.task_id.in_(gone)))


def _sync_jobs(connection, batch, runtime, instance, known: frozenset, waiting, now) -> None:
    settings = runtime.settings
    rows = [{"instance_id": instance.id, "task_id": info.task_id, "spec_name": info.spec_name,
             "operation": info.operation, "params": jsonable(info.params), "state": "ready", "attempts": 0,
             "max_attempts": info.max_attempts or settings.job_max_attempts,
             "backoff_base": info.backoff_base or settings.job_backoff_base_seconds, "next_attempt_at": now,
             "created_at": now}
            for info in waiting if info.task_id not in known]
    batch.add_rows(connection, _INSERT_JOB, rows)
    gone = known - {info.task_id for info in waiting}
    if gone:  # e.g. interrupted by a boundary event; a finished job keeps its state
        connection.execute(update(_JOB).where(_JOB.c.instance_id == instance.id, _JOB.c.task_id.in_(gone),
                                                 _JOB.c.state.in_(("ready", "running", "incident")))
                              .values(state="cancelled", finished_at=now))


def _sync_subscriptions(connection, batch, instance, known: frozenset, waiting) -> None:
    rows = []
    for info in waiting:
        if info.task_id not in known:
            key = canonical_correlation(jsonable(info.correlation))
            rows.append({"instance_id": instance.id, "task_id": info.task_id, "spec_name": info.spec_name,
                         "message_name": info.message_name, "correlation_key": key, "created_at": utcnow()})
    # the locks in one order everywhere: two steps opening the same two subscriptions never wait for each other
    for name, key in sorted({(row["message_name"], row["correlation_key"]) for row in rows}):
        lock_correlation(connection, name, key)
    batch.add_rows(connection, _INSERT_SUBSCRIPTION, rows)
    for task_id in sorted(known - {info.task_id for info in waiting}):
        batch.add(connection, _DELETE_SUBSCRIPTION, {"row_instance": instance.id, "row_task": task_id})
