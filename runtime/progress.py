"""Load an instance's workflow and save its progress: state, variables and the index of what
waits (human tasks, subscriptions, timers, service jobs) are written in the caller's transaction.
Messages buffered for a subscription that just opened are delivered here too."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kontor.db import lock_correlation, utcnow
from runtime.engine import ProcessError, ProcessSpec, Snapshot, canonical_correlation
from runtime.errors import Conflict
from runtime.models import (AuditEvent, HumanTask, HumanTaskGroup, Message, MessageSubscription, ProcessInstance,
                            ServiceJob, Timer)
from runtime.runtime import ProcessRuntime


def jsonable(value):
    """Process data as plain JSON (Decimal and dates become text)."""
    return json.loads(json.dumps(value, default=str))


def audit(session: Session, instance_id: int | None, kind: str, actor: str, task_spec: str | None = None,
          **details) -> None:
    session.add(AuditEvent(instance_id=instance_id, kind=kind, actor=actor, task_spec=task_spec,
                           details=jsonable(details)))


def load_workflow(session: Session, runtime: ProcessRuntime, instance: ProcessInstance):
    """The instance's workflow, with what it waits for remembered, so that saving it later only
    touches the index rows that changed (the index is a function of the stored state)."""
    spec = runtime.spec(session, instance.definition_id)
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


def save_progress(session: Session, runtime: ProcessRuntime, instance: ProcessInstance, workflow,
                  spec: ProcessSpec, actor: str, recheck_buffered: bool = False) -> None:
    """Write state and index; then hand over buffered messages that now have a subscriber (those of
    new subscriptions; with recheck_buffered, of every subscription: after a resume, messages that
    arrived while the instance was suspended were buffered)."""
    for _ in range(100):  # each delivery may open new subscriptions; a process is not an infinite message loop
        delivered = _write(session, runtime, instance, workflow, spec, actor, recheck_buffered)
        if not delivered:
            return
    raise ProcessError("more than 100 buffered messages delivered in one step")


def _write(session, runtime, instance, workflow, spec, actor, recheck_buffered: bool) -> bool:
    now = utcnow()
    snapshot = runtime.engine.snapshot(workflow, spec, now)
    instance.state = runtime.engine.dump(workflow)
    instance.variables = jsonable(runtime.engine.variables(workflow))
    instance.updated_at = now
    if snapshot.completed and instance.status == "running":
        instance.status = "completed"
        instance.ended_at = now
        audit(session, instance.id, "instance_completed", actor)
    known = session.info.get(_WAITING_KEY, {}).get(instance.id)
    if known is None:
        raise RuntimeError(f"instance {instance.id} is saved without being loaded or started in this session")
    _sync_human_tasks(session, instance, known.human, snapshot.human_tasks, now)
    _sync_timers(session, instance, known.timers, snapshot.timers)
    _sync_jobs(session, runtime, instance, known.jobs, snapshot.service_jobs, now)
    _sync_subscriptions(session, instance, known.messages, snapshot.messages)
    remember_waiting(session, instance.id, snapshot)
    if instance.status != "running":
        return False
    for wait in snapshot.messages:
        key = canonical_correlation(jsonable(wait.correlation))
        if wait.task_id in known.messages:
            if not recheck_buffered:
                continue  # looked for when the subscription opened; later messages find the subscription
            lock_correlation(session, wait.message_name, key)
        message = session.scalar(
            select(Message).where(Message.status == "buffered", Message.name == wait.message_name,
                                  Message.correlation_key == key,
                                  Message.expires_at > now)
            .order_by(Message.received_at, Message.id).limit(1).with_for_update(skip_locked=True))
        if message is not None:
            deliver(session, runtime, instance, workflow, wait.task_id, wait.spec_name, message, actor)
            return True
    return False


def deliver(session, runtime, instance, workflow, task_id: str, spec_name: str, message: Message,
            actor: str) -> None:
    runtime.engine.deliver_message(workflow, task_id, message.name, message.data or {})
    message.status = "delivered"
    message.delivered_at = utcnow()
    message.instance_id = instance.id
    audit(session, instance.id, "message_correlated", actor, spec_name,
          message=message.name, message_id=message.message_id, correlation=message.correlation)


# ------------------------------------------------ the index: only what changed is written
_WAITING_KEY = "kontor_waiting"
_PLAIN = {"synchronize_session": False}  # index rows are not kept in the session: no in-memory sync needed


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


def _sync_human_tasks(session, instance, known: frozenset, waiting, now) -> None:
    for info in waiting:
        if info.task_id in known:
            continue
        task = HumanTask(instance_id=instance.id, task_id=info.task_id, process_key=instance.process_key,
                         spec_name=info.spec_name, title=info.title, lane=info.lane,
                         candidate_groups=info.candidate_groups, form_schema=info.form_schema,
                         ui_schema=info.ui_schema, documentation=info.documentation, priority=info.priority,
                         due_at=info.due_at, follow_up_at=info.follow_up_at, created_at=now,
                         assignee=info.assignee, guard=info.guard)
        session.add(task)
        session.flush()
        for group in info.candidate_groups:
            session.add(HumanTaskGroup(human_task_id=task.id, group_name=group))
    gone = known - {info.task_id for info in waiting}
    if gone:  # interrupted by a boundary event, or the instance was cancelled; completed ones stay completed
        open_gone = select(HumanTask.id).where(HumanTask.instance_id == instance.id, HumanTask.task_id.in_(gone),
                                               HumanTask.state == "open")
        session.execute(delete(HumanTaskGroup).where(HumanTaskGroup.human_task_id.in_(open_gone)),
                        execution_options=_PLAIN)
        session.execute(update(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.task_id.in_(gone),
                                                HumanTask.state == "open").values(state="cancelled", ended_at=now), execution_options=_PLAIN)


def _sync_timers(session, instance, known: dict, waiting) -> None:
    for info in waiting:
        if info.task_id not in known:
            session.add(Timer(instance_id=instance.id, task_id=info.task_id, spec_name=info.spec_name,
                              kind=info.kind, due_at=info.due_at))
        elif known[info.task_id] != info.due_at:  # a cycle timer moved on to its next due time
            session.execute(update(Timer).where(Timer.instance_id == instance.id, Timer.task_id == info.task_id)
                            .values(due_at=info.due_at), execution_options=_PLAIN)
    gone = set(known) - {info.task_id for info in waiting}
    if gone:
        session.execute(delete(Timer).where(Timer.instance_id == instance.id, Timer.task_id.in_(gone)),
                        execution_options=_PLAIN)


def _sync_jobs(session, runtime, instance, known: frozenset, waiting, now) -> None:
    settings = runtime.settings
    for info in waiting:
        if info.task_id in known:
            continue
        session.add(ServiceJob(
            instance_id=instance.id, task_id=info.task_id, spec_name=info.spec_name, operation=info.operation,
            params=jsonable(info.params), state="ready", attempts=0,
            max_attempts=info.max_attempts or settings.job_max_attempts,
            backoff_base=info.backoff_base or settings.job_backoff_base_seconds, next_attempt_at=now))
    gone = known - {info.task_id for info in waiting}
    if gone:  # e.g. interrupted by a boundary event; a finished job keeps its state
        session.execute(update(ServiceJob).where(ServiceJob.instance_id == instance.id, ServiceJob.task_id.in_(gone),
                                                 ServiceJob.state.in_(("ready", "running", "incident")))
                        .values(state="cancelled", finished_at=now), execution_options=_PLAIN)


def _sync_subscriptions(session, instance, known: frozenset, waiting) -> None:
    for info in waiting:
        if info.task_id not in known:
            key = canonical_correlation(jsonable(info.correlation))
            lock_correlation(session, info.message_name, key)
            session.add(MessageSubscription(instance_id=instance.id, task_id=info.task_id, spec_name=info.spec_name,
                                            message_name=info.message_name, correlation_key=key))
    gone = known - {info.task_id for info in waiting}
    if gone:
        session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id,
                                                          MessageSubscription.task_id.in_(gone)),
                        execution_options=_PLAIN)


def message_expiry(runtime: ProcessRuntime, ttl_seconds: int | None) -> datetime:
    ttl = runtime.settings.message_ttl_seconds if ttl_seconds is None else ttl_seconds
    return datetime.now(timezone.utc) + timedelta(seconds=ttl)
