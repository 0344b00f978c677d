"""Offers: create from the customer's defaults, change, submit for approval, revisions, the PDF."""
from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, KontorDep, RuntimeDep, SessionDep
from api.downloads import content_disposition
from api.offer_schemas import (
    OFFER_NOT_NULL,
    OfferIn,
    OfferLineOut,
    OfferLinesIn,
    OfferOut,
    OfferPatch,
    OfferStatus,
    OfferSummary,
    VersionIn,
)
from api.params import DayFilter, OptionalId, RecordId, paging
from api.schemas import Page, page_out, patch_changes
from api.versioning import set_etag, versioned
from domain.offers import commands
from domain.offers.access import readable_offer
from domain.offers.queries import OfferFilter, approval_need, approvals, list_offers, offer_view, revisions
from kernel.documents import DocumentStore
from kernel.errors import NotFound

router = APIRouter(prefix="/offers", tags=["offers"])
OfferPrecondition = versioned("offer", "offer_id")
ActionPrecondition = versioned("offer", "offer_id", required=False)  # submit, delete: the version is optional
OfferPage = paging("-created_at", "id", "number", "created_at", "valid_until", "net_total", "status")


def offer_out(session, offer) -> OfferOut:
    view = offer_view(session, offer, with_costs=True)
    return OfferOut.model_validate({**{c.key: getattr(offer, c.key) for c in offer.__table__.columns}, **view,
                                    "label": offer.label, "approvals": approvals(session, offer.id),
                                    "approval_need": approval_need(session, offer)})


@router.post("", response_model=OfferOut, status_code=201,
             summary="A draft offer with the customer's defaults; lines priced by the price lookup")
def create(body: OfferIn, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    return offer_out(session, commands.create_offer(session, kontor.settings, user, body.model_dump()))


@router.get("", response_model=Page[OfferSummary], summary="Offers: filter, search, sort, page")
def list_(session: SessionDep, user: CurrentUser, page: OfferPage,
          q: Annotated[str | None, Query(max_length=200)] = None, customer_id: OptionalId = None,
          status: OfferStatus | None = None, owner: Annotated[str | None, Query(max_length=100)] = None,
          valid_before: DayFilter = None):
    f = OfferFilter(q=q, customer_id=customer_id, status=status, owner=owner, valid_before=valid_before)
    return page_out(OfferSummary, list_offers(session, user, f, page), page)


@router.get("/{offer_id}", response_model=OfferOut, summary="The offer (its ETag in the header)")
def get(offer_id: RecordId, session: SessionDep, user: CurrentUser, response: Response):
    return offer_out(session, set_etag(response, "offer", readable_offer(session, user, offer_id)))


@router.delete("/{offer_id}", status_code=204, response_class=Response,
               summary="Delete a draft that was never submitted (it has no number yet); other offers are withdrawn")
def delete(offer_id: RecordId, session: SessionDep, user: CurrentUser, precondition: ActionPrecondition):
    commands.delete_offer(session, user, offer_id, precondition.expected(None))
    return Response(status_code=204)


@router.patch("/{offer_id}", response_model=OfferOut,
              summary="Change the terms (send `version` or If-Match); in approval: approval restarts; "
                      "sent: the next revision carries it")
def patch(offer_id: RecordId, body: OfferPatch, session: SessionDep, runtime: RuntimeDep, kontor: KontorDep,
          user: CurrentUser, precondition: OfferPrecondition, response: Response):
    changes = patch_changes(body, OFFER_NOT_NULL)
    version = precondition.expected(changes.pop("version", None))
    offer = commands.change_offer(session, runtime, kontor.settings, user, offer_id, changes, None, version)
    return offer_out(session, set_etag(response, "offer", offer))


@router.get("/{offer_id}/lines", response_model=Page[OfferLineOut])
def lines(offer_id: RecordId, session: SessionDep, user: CurrentUser):
    items = offer_view(session, readable_offer(session, user, offer_id), with_costs=True)["lines"]
    return Page(items=items, total=len(items), limit=max(len(items), 1), offset=0)


@router.put("/{offer_id}/lines", response_model=OfferOut,
            summary="Replace the lines (each priced anew); same rules for approval and revisions as PATCH")
def put_lines(offer_id: RecordId, body: OfferLinesIn, session: SessionDep, runtime: RuntimeDep, kontor: KontorDep,
              user: CurrentUser, precondition: OfferPrecondition, response: Response):
    items = [line.model_dump() for line in body.lines]
    offer = commands.change_offer(session, runtime, kontor.settings, user, offer_id, {}, items,
                                  precondition.expected(body.version))
    return offer_out(session, set_etag(response, "offer", offer))


@router.post("/{offer_id}/submit", response_model=OfferOut,
             summary="Submit a draft for approval (its number is given now) or resubmit it after rework")
def submit(offer_id: RecordId, body: VersionIn, session: SessionDep, runtime: RuntimeDep, kontor: KontorDep,
           user: CurrentUser, precondition: ActionPrecondition, response: Response):
    version = precondition.expected(body.version)
    offer = commands.submit_offer(session, runtime, kontor.settings, user, offer_id, version)
    return offer_out(session, set_etag(response, "offer", offer))


@router.post("/{offer_id}/withdraw", response_model=OfferOut)
def withdraw(offer_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser):
    return offer_out(session, commands.withdraw_offer(session, runtime, user, offer_id))


@router.get("/{offer_id}/revisions", response_model=Page[OfferSummary], summary="Every revision, first to last")
def list_revisions(offer_id: RecordId, session: SessionDep, user: CurrentUser):
    chain = revisions(session, user, offer_id)
    return Page(items=[OfferSummary.model_validate(o, from_attributes=True) for o in chain], total=len(chain),
                limit=len(chain), offset=0)


@router.post("/{offer_id}/revisions", response_model=OfferOut, status_code=201,
             summary="The next revision of a sent or expired offer, as a draft")
def revise(offer_id: RecordId, session: SessionDep, runtime: RuntimeDep, kontor: KontorDep, user: CurrentUser):
    return offer_out(session, commands.revise_offer(session, runtime, kontor.settings, user, offer_id))


@router.get("/{offer_id}/pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}},
            summary="The offer's PDF as sent (404 before it is rendered)")
def pdf(offer_id: RecordId, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    offer = readable_offer(session, user, offer_id)
    if offer.pdf_document_id is None:
        raise NotFound(f"offer {offer.label} has no PDF yet (it is rendered after approval)")
    filename, content_type, content = DocumentStore.under(kontor.settings.data_dir).load(session, offer.pdf_document_id)
    return Response(content, media_type=content_type,
                    headers={"Content-Disposition": content_disposition(filename, "inline"),
                             "X-Content-SHA256": hashlib.sha256(content).hexdigest()})
