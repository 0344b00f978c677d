"""Read-side queries of the runtime: instance lists and details, scoped to what the caller may see."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, exists, func, or_, select
from sqlalchemy.orm import Session

from kernel.errors import NotFound
from kernel.principal import Principal
from runtime.models import (
    AuditEvent,
    HumanTask,
    HumanTaskGroup,
    Incident,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    ServiceJob,
    Timer,
)

SUPERVISORS = ("ops", "admin")


def _involved(who: Principal) -> ColumnElement[bool]:
    """Instances the caller started or has (had) a task in."""
    task_of_mine = exists().where(HumanTask.instance_id == ProcessInstance.id, or_(
        HumanTask.assignee == who.username, HumanTask.completed_by == who.username,
        exists().where(HumanTaskGroup.human_task_id == HumanTask.id,
                       HumanTaskGroup.group_name.in_(sorted(who.groups) or [""]))))
    return or_(ProcessInstance.started_by == who.username, task_of_mine)


def may_see_instance(session: Session, instance: ProcessInstance, who: Principal) -> bool:
    if who.is_portal:  # the processes' state is internal; portal users see their records through the portal
        return False
    if who.has_any(*SUPERVISORS):
        return True
    return session.scalar(select(ProcessInstance.id).where(ProcessInstance.id == instance.id, _involved(who))) \
        is not None


@dataclass
class InstanceFilter:
    process: str | None = None
    status: str | None = None
    business_key: str | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None
    limit: int = 50
    offset: int = 0


def list_instances(session: Session, who: Principal,
                   f: InstanceFilter) -> tuple[Sequence[Row[ProcessInstance, int]], int]:
    query = select(ProcessInstance, ProcessDefinition.version).join(
        ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
    if who.is_portal:
        return [], 0
    if not who.has_any(*SUPERVISORS):
        query = query.where(_involved(who))
    if f.process:
        query = query.where(ProcessInstance.process_key == f.process)
    if f.status:
        query = query.where(ProcessInstance.status == f.status)
    if f.business_key:
        query = query.where(ProcessInstance.business_key == f.business_key)
    if f.started_after:
        query = query.where(ProcessInstance.started_at >= f.started_after)
    if f.started_before:
        query = query.where(ProcessInstance.started_at < f.started_before)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(ProcessInstance.id.desc()).limit(f.limit).offset(f.offset)).all()
    return rows, total


@dataclass
class InstanceView:
    instance: ProcessInstance
    version: int
    tasks: list[HumanTask]
    subscriptions: list[MessageSubscription]
    timers: list[Timer]
    jobs: list[ServiceJob]
    audit: list[AuditEvent]
    variables: dict[str, Any]


def instance_view(session: Session, instance_id: int, who: Principal) -> InstanceView:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or not may_see_instance(session, instance, who):
        raise NotFound(f"process instance {instance_id} not found")
    version = session.execute(select(ProcessDefinition.version)
                              .where(ProcessDefinition.id == instance.definition_id)).scalar_one()
    return InstanceView(
        instance=instance, version=version,
        tasks=list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                                   .where(HumanTask.state == "open").order_by(HumanTask.id))),
        subscriptions=list(session.scalars(select(MessageSubscription)
                                           .where(MessageSubscription.instance_id == instance.id)
                                           .order_by(MessageSubscription.id))),
        timers=list(session.scalars(select(Timer).where(Timer.instance_id == instance.id).order_by(Timer.due_at))),
        jobs=list(session.scalars(select(ServiceJob).where(ServiceJob.instance_id == instance.id)
                                  .order_by(ServiceJob.id))),
        audit=list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                   .order_by(AuditEvent.at, AuditEvent.id))),
        variables=visible_variables(instance.variables or {}, who),
    )


def visible_variables(variables: dict[str, Any], who: Principal) -> dict[str, Any]:
    """Variables whose name begins with an underscore are internal: only ops see them."""
    if who.has_any(*SUPERVISORS):
        return variables
    return {k: v for k, v in variables.items() if not k.startswith("_")}


def list_incidents(session: Session, open_only: bool, limit: int, offset: int,
                   queue: str | None = None) -> tuple[list[Incident], int]:
    """The dead letters of every queue (runtime.queue), newest first; those not yet retried by default."""
    query = select(Incident)
    if queue:
        query = query.where(Incident.queue == queue)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    return list(session.scalars(query.order_by(Incident.id.desc()).limit(limit).offset(offset))), total
