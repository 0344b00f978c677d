from fastapi import APIRouter

from api.deps import OpsUser, SessionDep
from api.params import Limit, Offset, RecordId
from api.schemas import IncidentOut, Page
from runtime.jobs import retry_incident
from runtime.queries import list_incidents

router = APIRouter(prefix="/incidents", tags=["ops"])


@router.get("", response_model=Page[IncidentOut], summary="Service jobs that ran out of attempts")
def list_(session: SessionDep, _user: OpsUser, open_only: bool = True,
          limit: Limit = 50, offset: Offset = 0):
    rows, total = list_incidents(session, open_only, limit, offset)
    return Page(items=[IncidentOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/{incident_id}/retry", response_model=IncidentOut, summary="After a fix: run the job again")
def retry(incident_id: RecordId, session: SessionDep, user: OpsUser):
    return IncidentOut.model_validate(retry_incident(session, incident_id, user))
