from typing import Literal

from fastapi import APIRouter, Response

from api.deps import CurrentUser, OpsUser, RuntimeDep, SessionDep
from api.error_responses import ErrorOut
from api.params import DateTimeFilter, Limit, Offset, RecordId
from api.routers.tasks import marked_tasks
from api.schemas import (
    AuditOut,
    CancelInstance,
    InstanceDetail,
    InstanceOut,
    JobOut,
    Page,
    StartInstance,
    TimerOut,
    WaitingMessageOut,
)
from runtime import instances as handlers
from runtime.clients import start_for_client
from runtime.queries import InstanceFilter, instance_view, list_instances

router = APIRouter(prefix="/process-instances", tags=["process instances"])


def instance_out(instance, version: int) -> InstanceOut:
    return InstanceOut(id=instance.id, process=instance.process_key, version=version,
                       business_key=instance.business_key, status=instance.status, started_by=instance.started_by,
                       started_at=instance.started_at, updated_at=instance.updated_at, ended_at=instance.ended_at,
                       lock_version=instance.version)


def _detail(session, runtime, instance_id: RecordId, user) -> InstanceDetail:
    view = instance_view(session, instance_id, user)
    base = instance_out(view.instance, view.version).model_dump()
    return InstanceDetail(
        **base, tasks=marked_tasks(session, runtime, user, view.tasks),
        messages=[WaitingMessageOut(name=s.message_name, element=s.spec_name, correlation=_loads(s.correlation_key))
                  for s in view.subscriptions],
        timers=[TimerOut(element=t.spec_name, kind=t.kind, due_at=t.due_at) for t in view.timers],
        jobs=[JobOut(id=j.id, element=j.spec_name, operation=j.operation, state=j.state, attempts=j.attempts,
                     max_attempts=j.max_attempts, next_attempt_at=j.next_attempt_at, last_error=j.last_error)
              for j in view.jobs],
        variables=view.variables, audit=[AuditOut.model_validate(a) for a in view.audit])


def _loads(text: str) -> dict:
    import json
    return json.loads(text)


@router.post("", response_model=InstanceDetail, status_code=201,
             responses={200: {"model": InstanceDetail, "description": "the instance started before with this "
                                                                     "business key"},
                        404: {"model": ErrorOut, "description": "No such process is deployed"}},
             summary="Start a process; a business key used before returns that instance (200)")
def start(body: StartInstance, session: SessionDep, runtime: RuntimeDep, user: CurrentUser, response: Response):
    instance, created = start_for_client(session, runtime, user, body.process, body.data, body.business_key)
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/process-instances/{instance.id}"
    session.flush()
    return _detail(session, runtime, instance.id, user)


@router.get("", response_model=Page[InstanceOut])
def list_(session: SessionDep, user: CurrentUser, process: str | None = None,
          status: Literal["running", "suspended", "completed", "cancelled"] | None = None,
          business_key: str | None = None, started_after: DateTimeFilter = None,
          started_before: DateTimeFilter = None, limit: Limit = 50,
          offset: Offset = 0):
    rows, total = list_instances(session, user, InstanceFilter(process, status, business_key, started_after,
                                                               started_before, limit, offset))
    return Page(items=[instance_out(i, v) for i, v in rows], total=total, limit=limit, offset=offset)


@router.get("/{instance_id}", response_model=InstanceDetail,
            summary="State, what it waits for, the variables the caller may see, and the audit trail")
def get(instance_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser):
    return _detail(session, runtime, instance_id, user)


@router.post("/{instance_id}/suspend", response_model=InstanceDetail, tags=["ops"])
def suspend(instance_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: OpsUser):
    handlers.suspend_instance(session, user, instance_id)
    session.flush()
    return _detail(session, runtime, instance_id, user)


@router.post("/{instance_id}/resume", response_model=InstanceDetail, tags=["ops"])
def resume(instance_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: OpsUser):
    handlers.resume_instance(session, runtime, user, instance_id)
    session.flush()
    return _detail(session, runtime, instance_id, user)


@router.post("/{instance_id}/cancel", response_model=InstanceDetail, tags=["ops"])
def cancel(instance_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: OpsUser,
           body: CancelInstance | None = None):
    handlers.cancel_instance(session, runtime, user, instance_id, reason=body.reason if body else None)
    session.flush()
    return _detail(session, runtime, instance_id, user)
