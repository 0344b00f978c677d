from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import OpsUser, SessionDep
from api.params import Limit, Offset
from api.schemas import Page
from runtime.offline_runs import list_offline_runs

router = APIRouter(prefix="/offline-runs", tags=["ops"])


class OfflineRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    worker: str
    started_at: datetime
    finished_at: datetime
    summary: dict | list | int | None
    reason: str
    error: str | None
    reported_at: datetime | None
    report_flow_run_id: str | None


@router.get("", response_model=Page[OfflineRunOut],
            summary="Rounds of background work that ran without a Prefect flow run (Prefect unreachable)")
def list_(session: SessionDep, _user: OpsUser, unreported_only: bool = False, limit: Limit = 50,
          offset: Offset = 0):
    rows, total = list_offline_runs(session, unreported_only, limit, offset)
    return Page(items=[OfflineRunOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)
