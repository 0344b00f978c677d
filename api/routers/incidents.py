"""One ops path for every queue's dead letters (runtime.queue): list them, run one again after a fix."""
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import OpsUser, SessionDep
from api.params import Limit, Offset, RecordId
from api.schemas import IncidentOut, Page
from runtime.queries import list_incidents
from runtime.queue import retry_incident

router = APIRouter(prefix="/incidents", tags=["ops"])
QueueName = Annotated[str | None, Query(max_length=40, description="only this queue's: service_jobs, outbox …")]


@router.get("", response_model=Page[IncidentOut], summary="Dead letters of every queue: service jobs and mail "
            "that ran out of attempts")
def list_(session: SessionDep, _user: OpsUser, open_only: bool = True, queue: QueueName = None,
          limit: Limit = 50, offset: Offset = 0):
    rows, total = list_incidents(session, open_only, limit, offset, queue)
    return Page(items=[IncidentOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/{incident_id}/retry", response_model=IncidentOut,
             summary="After a fix: run the job, send the mail … again (once)")
def retry(incident_id: RecordId, session: SessionDep, user: OpsUser):
    return IncidentOut.model_validate(retry_incident(session, incident_id, user))
