"""The outbox for ops: what was sent, what waits for a retry, the dead letters, and queueing one again."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentUser, OpsUser, SessionDep
from api.params import RecordId, paging
from api.schemas import Page, page_out
from mailers import outbox

router = APIRouter(prefix="/outbox", tags=["ops"])
OutboxPage = paging("-id", *outbox.OUTBOX_SORTS)


class OutboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    purpose: str
    template: str
    language: str
    to_address: str
    customer_id: int | None
    contact_id: int | None
    record_type: str | None
    record_id: int | None
    subject_tag: str | None
    message_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_by: str
    created_at: datetime
    sent_at: datetime | None


@router.get("", response_model=Page[OutboxOut], summary="Queued, sent and dead mail (ops, managers)")
def list_(session: SessionDep, user: CurrentUser, page: OutboxPage,
          state: Literal["pending", "sending", "sent", "dead", "suppressed"] | None = None):
    return page_out(OutboxOut, outbox.list_mail(session, user, page, state), page)


@router.get("/{outbox_id}", response_model=OutboxOut)
def get(outbox_id: RecordId, session: SessionDep, user: CurrentUser):
    return outbox.readable_mail(session, user, outbox_id)


@router.post("/{outbox_id}/requeue", response_model=OutboxOut, summary="Send a dead letter again after a fix")
def requeue(outbox_id: RecordId, session: SessionDep, user: OpsUser):
    return outbox.requeue(session, user, outbox_id)
