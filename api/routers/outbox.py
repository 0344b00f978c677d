"""The outbox for ops: what was sent, what waits for a retry, the dead letters, and queueing one again."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, OpsUser, SessionDep
from api.params import RecordId, paging
from api.schemas import Page
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
    message_id: str = Field(description="the mail's Message-ID; for ops without its random part (a reply naming "
                                        "it is proof)")
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_by: str
    created_at: datetime
    sent_at: datetime | None


def outbox_out(row, user) -> OutboxOut:
    shown = OutboxOut.model_validate(row)
    shown.message_id = outbox.shown_message_id(user, row.message_id)
    return shown


@router.get("", response_model=Page[OutboxOut], summary="Queued, sent and dead mail (ops, managers)")
def list_(session: SessionDep, user: CurrentUser, page: OutboxPage,
          state: Literal["pending", "sending", "sent", "dead", "suppressed"] | None = None):
    rows, total = outbox.list_mail(session, user, page, state)
    return Page(items=[outbox_out(r, user) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/{outbox_id}", response_model=OutboxOut)
def get(outbox_id: RecordId, session: SessionDep, user: CurrentUser):
    return outbox_out(outbox.readable_mail(session, user, outbox_id), user)


@router.post("/{outbox_id}/requeue", response_model=OutboxOut, summary="Send a dead letter again after a fix")
def requeue(outbox_id: RecordId, session: SessionDep, user: OpsUser):
    return outbox_out(outbox.requeue(session, user, outbox_id), user)
