from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import OpsUser, RuntimeDep, SessionDep
from api.params import Limit, Offset, OptionalId, RecordId
from api.schemas import Page, ScheduledTimerOut
from domain.fields import UtcDatetime
from runtime.timers import reschedule_timer, timers_of

router = APIRouter(prefix="/timers", tags=["ops"])


class RescheduleTimer(BaseModel):
    due_at: UtcDatetime


@router.get("", response_model=Page[ScheduledTimerOut], summary="Waiting timers, soonest first")
def list_(session: SessionDep, _user: OpsUser, instance_id: OptionalId = None, limit: Limit = 50, offset: Offset = 0):
    rows, total = timers_of(session, instance_id, limit, offset)
    return Page(items=[ScheduledTimerOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/{timer_id}/reschedule", response_model=ScheduledTimerOut,
             summary="Move a waiting timer to another moment (e.g. now); it fires like any other")
def reschedule(timer_id: RecordId, body: RescheduleTimer, session: SessionDep, runtime: RuntimeDep, user: OpsUser):
    return ScheduledTimerOut.model_validate(reschedule_timer(session, runtime, user, timer_id, body.due_at))
