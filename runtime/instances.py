"""Start, suspend, resume and cancel process instances: each function runs in the caller's transaction."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from kernel.clock import utcnow
from kernel.db import table_of
from kernel.driver_sql import DriverStatement
from kernel.errors import Conflict, NotFound, ValidationFailed
from kernel.principal import Principal
from runtime.engine import ProcessError, ProcessSpec, Workflow
from runtime.models import (
    HumanTask,
    HumanTaskGroup,
    Message,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    ServiceJob,
    Timer,
)
from runtime.progress import (
    BusinessKeyTaken,
    audit,
    audit_event,
    jsonable,
    load_workflow,
    save_progress,
    start_progress,
)
from runtime.runtime import ProcessRuntime
from runtime.store import NotLatestDefinition, core

_DEFINITION = table_of(ProcessDefinition)
_LATEST_VERSION = DriverStatement(select(_DEFINITION.c.id, _DEFINITION.c.version).where(
    _DEFINITION.c.process_key == bindparam("row_key"), _DEFINITION.c.is_latest.is_(True)))


def latest_definition(session: Session, process_key: str) -> ProcessDefinition:
    definition = session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_key == process_key, ProcessDefinition.is_latest.is_(True)))
    if definition is None:
        raise NotFound(f"no process {process_key!r} is deployed",
                       [{"field": "process", "message": f"unknown process {process_key!r}"}])
    return definition


def _latest_version(session: Session, runtime: ProcessRuntime, process_key: str) -> tuple[int, int]:
    """(definition id, version) of the newest deployed version, as this process last looked it up."""
    def look_up() -> tuple[int, int]:
        found = _LATEST_VERSION.execute(core(session), {"row_key": process_key}).first()
        if found is None:
            raise NotFound(f"no process {process_key!r} is deployed",
                           [{"field": "process", "message": f"unknown process {process_key!r}"}])
        return found["id"], found["version"]
    return runtime.latest_version(process_key, look_up)


def start_instance(session: Session, runtime: ProcessRuntime, actor: Principal, process_key: str,
                   data: dict[str, Any], business_key: str | None = None) -> tuple[ProcessInstance, bool]:
    """Start the newest version of a process. With a business key that was used before for this
    process, the existing instance is returned (created=False) and nothing new starts."""
    if business_key is not None:
        existing = find_by_business_key(session, process_key, business_key)
        if existing is not None:
            return existing, False
    try:
        for _ in range(3):
            try:
                instance = _start_newest(session, runtime, actor, process_key, data, business_key)
                break
            except NotLatestDefinition:  # another process deployed a newer version since this one looked
                runtime.forget_latest_versions()
        else:
            raise Conflict(f"process {process_key!r} is being deployed again and again right now; try again")
    except ProcessError as exc:  # e.g. a script error, or a due date expression that does not give a date
        raise ValidationFailed(f"the process could not start with this data: {exc}",
                               [{"field": "data", "message": str(exc)}]) from exc
    except BusinessKeyTaken as taken:  # started concurrently under the same key: the first instance counts
        existing = find_by_business_key(session, process_key, business_key) if business_key is not None else None
        if existing is None:
            raise (taken.__cause__ or taken) from None  # another integrity error: reported as what it is
        return existing, False
    return instance, True


def start_on_message(session: Session, runtime: ProcessRuntime, actor: Principal, process_key: str,
                     message: Message) -> ProcessInstance:
    """Start the newest version of a process whose message start event catches this message: the
    message's data are the start data, and the instance is saved past its start event. The
    message is marked delivered to it (in the caller's transaction, with the instance)."""
    def catch(workflow: Workflow, spec: ProcessSpec) -> None:
        waits = [m for m in runtime.engine.snapshot(workflow, spec).messages if m.message_name == message.name]
        runtime.engine.deliver_message(workflow, waits[0].task_id, message.name, message.data or {})

    try:
        instance = _start_newest(session, runtime, actor, process_key, message.data or {}, None, catch)
    except NotLatestDefinition:  # deployed again meanwhile: the next try finds the newer version
        runtime.forget_latest_versions()
        instance = _start_newest(session, runtime, actor, process_key, message.data or {}, None, catch)
    except ProcessError as exc:
        raise ValidationFailed(f"the process could not start with this message: {exc}",
                               [{"field": "data", "message": str(exc)}]) from exc
    message.status, message.delivered_at, message.instance_id = "delivered", utcnow(), instance.id
    audit(session, instance.id, "message_correlated", actor.username, message=message.name,
          message_id=message.message_id, correlation=message.correlation, started=True)
    return instance


def _start_newest(session: Session, runtime: ProcessRuntime, actor: Principal, process_key: str, data: dict[str, Any],
                  business_key: str | None,
                  on_start: Callable[[Workflow, ProcessSpec], None] | None = None) -> ProcessInstance:
    definition_id, version = _latest_version(session, runtime, process_key)
    spec = runtime.spec(session, definition_id)
    workflow = runtime.engine.start(spec, jsonable(data))
    if on_start is not None:
        on_start(workflow, spec)
        runtime.engine.run(workflow)
    return start_progress(
        session, runtime, {"process_key": process_key, "definition_id": definition_id,
                           "business_key": business_key, "started_by": actor.username},
        workflow, spec, actor.username,
        lambda instance_id: [audit_event(instance_id, "instance_started", actor.username, version=version,
                                         business_key=business_key)])


def find_by_business_key(session: Session, process_key: str, business_key: str) -> ProcessInstance | None:
    return session.scalar(select(ProcessInstance).where(
        ProcessInstance.process_key == process_key, ProcessInstance.business_key == business_key))


def get_instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


def suspend_instance(session: Session, actor: Principal, instance_id: int,
                     expected_version: int | None = None) -> ProcessInstance:
    instance = get_instance(session, instance_id)
    _check_version(instance, expected_version)
    if instance.status != "running":
        raise Conflict(f"only a running instance can be suspended; this one is {instance.status}")
    instance.status = "suspended"
    instance.updated_at = utcnow()
    audit(session, instance.id, "instance_suspended", actor.username)
    return instance


def resume_instance(session: Session, runtime: ProcessRuntime, actor: Principal, instance_id: int,
                    expected_version: int | None = None) -> ProcessInstance:
    instance = get_instance(session, instance_id)
    _check_version(instance, expected_version)
    if instance.status != "suspended":
        raise Conflict(f"only a suspended instance can be resumed; this one is {instance.status}")
    instance.status = "running"
    audit(session, instance.id, "instance_resumed", actor.username)
    workflow, spec = load_workflow(session, runtime, instance)
    runtime.engine.fire_timers(workflow)  # what fell due while suspended fires now
    save_progress(session, runtime, instance, workflow, spec, actor.username, recheck_buffered=True)
    return instance


def cancel_instance(session: Session, runtime: ProcessRuntime, actor: Principal, instance_id: int,
                    reason: str | None = None, expected_version: int | None = None) -> ProcessInstance:
    instance = get_instance(session, instance_id)
    _check_version(instance, expected_version)
    if instance.status not in ("running", "suspended"):
        raise Conflict(f"the instance is {instance.status} already")
    workflow, _ = load_workflow(session, runtime, instance)
    runtime.engine.cancel(workflow)
    now = utcnow()
    instance.state = runtime.engine.dump(workflow)
    instance.status = "cancelled"
    instance.ended_at = instance.updated_at = now
    open_ids = select(HumanTask.id).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
    session.execute(table_of(HumanTaskGroup).delete().where(HumanTaskGroup.human_task_id.in_(open_ids)))
    session.execute(update(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
                    .values(state="cancelled", ended_at=now))
    session.execute(update(ServiceJob).where(ServiceJob.instance_id == instance.id,
                                             ServiceJob.state.in_(("ready", "running", "incident")))
                    .values(state="cancelled", finished_at=now))
    session.execute(table_of(Timer).delete().where(Timer.instance_id == instance.id))
    session.execute(table_of(MessageSubscription).delete().where(MessageSubscription.instance_id == instance.id))
    audit(session, instance.id, "instance_cancelled", actor.username, reason=reason)
    return instance


def _check_version(instance: ProcessInstance, expected: int | None) -> None:
    if expected is not None and expected != instance.version:
        raise Conflict(f"the instance changed meanwhile (version {instance.version}, expected {expected})")
