"""Received mail: the list (filter state=quarantined for the quarantine), one message, routing by hand."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, KontorDep, SessionDep
from api.downloads import content_disposition
from api.params import OptionalId, RecordId, paging
from api.schemas import Page, page_out
from domain.fields import Strict
from kernel.documents import DocumentStore
from mailers import inbound_queries

router = APIRouter(prefix="/inbound-mails", tags=["mail"])
InboundPage = paging("-received_at", *inbound_queries.INBOUND_SORTS)


class InboundMailOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    mailbox: str
    message_id: str
    sender: str | None
    sender_name: str | None
    subject: str
    sent_at: datetime | None
    reply_text: str
    automatic: str | None
    state: str
    route: str
    reason: str | None
    outbox_id: int | None
    customer_id: int | None
    contact_id: int | None
    lead_id: int | None
    record_type: str | None
    record_id: int | None
    delivered_message: str | None
    evidence: str | None = Field(description="proof (reply token, thread): may move a process by itself; claim "
                                             "(subject tag, sender, by hand): a person decides")
    authentication: str | None = Field(description="the receiving server's failed sender checks (DMARC, DKIM, SPF)")
    size: int
    received_at: datetime
    routed_by: str | None


class RouteIn(Strict):
    outbox_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="the sent mail it answers")
    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="or the customer it belongs to")


@router.get("", response_model=Page[InboundMailOut], summary="Received mail, newest first")
def list_(session: SessionDep, user: CurrentUser, page: InboundPage,
          state: Literal["routed", "quarantined", "ignored"] | None = None,
          route: Literal["reply_token", "thread", "subject_tag", "sender", "new_lead", "quarantine", "automatic",
                         "manual"] | None = None, customer_id: OptionalId = None):
    return page_out(InboundMailOut, inbound_queries.list_inbound(session, user, page, state, route, customer_id), page)


@router.get("/{inbound_id}", response_model=InboundMailOut)
def get(inbound_id: RecordId, session: SessionDep, user: CurrentUser):
    return inbound_queries.readable_inbound(session, user, inbound_id)


@router.get("/{inbound_id}/source", summary="The message as received (RFC 822), as an attachment",
            response_class=Response)
def source(inbound_id: RecordId, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    content = inbound_queries.raw_source(session, kontor.mail_routes, DocumentStore.under(kontor.settings.data_dir),
                                         user, inbound_id)
    return Response(content, media_type="message/rfc822", headers={
        "Content-Disposition": content_disposition(f"mail-{inbound_id}.eml"), "X-Content-Type-Options": "nosniff"})


@router.post("/{inbound_id}/route", response_model=InboundMailOut,
             summary="Route a quarantined mail by hand: to the sent mail it answers, or to a customer")
def route(inbound_id: RecordId, body: RouteIn, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    return inbound_queries.route_by_hand(session, kontor.runtime, kontor.mail_routes, user, inbound_id,
                                         body.outbox_id, body.customer_id)
