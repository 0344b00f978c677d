"""Around a customer: overview, timeline (traces), notes, activities, duplicates and merge."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.customer_schemas import (
    ActivityIn,
    ActivityOut,
    AddressOut,
    AmountOut,
    ContactOut,
    CustomerOut,
    DuplicateOut,
    MergeIn,
    NoteIn,
    NoteOut,
    TraceOut,
)
from api.deps import CurrentUser, ReaderLanguage, SessionDep
from api.offer_schemas import OfferSummary, OrderSummary
from api.params import DateTimeFilter, Limit, Offset, OptionalId, RecordId, paging, sort_by
from api.routers.opportunities import opportunity_out
from api.sales_schemas import OpportunityOut
from api.schemas import Page, page_out, shown
from domain.customers import timeline
from domain.customers.access import PORTAL_HIDDEN_CUSTOMER_FIELDS, hidden_fields
from domain.customers.duplicates import duplicates_before_create, duplicates_for
from domain.customers.merge import merge_customers
from domain.customers.overview import customer_overview
from kernel.listing import PageRequest, page_of_list

router = APIRouter(prefix="/customers", tags=["customers"])
activities_router = APIRouter(prefix="/activities", tags=["customers"])
duplicates_router = APIRouter(prefix="/duplicates", tags=["customers"])
NotePage = paging("-created_at", *timeline.NOTE_SORTS)


class OverviewOut(BaseModel):
    customer: CustomerOut
    addresses: list[AddressOut]
    contacts: list[ContactOut]
    open_opportunities: list[OpportunityOut]
    open_opportunity_amount: AmountOut
    open_activities: list[ActivityOut]
    last_traces: list[TraceOut]
    open_offers: list[OfferSummary]
    open_orders: list[OrderSummary]
    open_items_total: AmountOut = Field(description="what the customer owes on issued invoices (GET /open-items)")


def duplicate_out(candidate) -> DuplicateOut:
    return DuplicateOut(customer_id=candidate.customer.id, number=candidate.customer.number,
                        name=candidate.customer.name, score=candidate.score, reasons=candidate.reasons)


def duplicates_page(candidates: list, limit: int, offset: int) -> Page[DuplicateOut]:
    """Ranked candidates keep their order (best score first); the page cuts that ranking."""
    rows, total = page_of_list(candidates, PageRequest("score", limit, offset))
    return Page(items=[duplicate_out(c) for c in rows], total=total, limit=limit, offset=offset)


@router.get("/{customer_id}/overview", response_model=OverviewOut, summary="The customer's dashboard")
def overview(customer_id: RecordId, session: SessionDep, user: CurrentUser, lang: ReaderLanguage):
    view = customer_overview(session, user, customer_id)
    return OverviewOut(customer=shown(CustomerOut, view.customer, hidden_fields(user, PORTAL_HIDDEN_CUSTOMER_FIELDS)),
                       addresses=[AddressOut.model_validate(a) for a in view.addresses],
                       contacts=[ContactOut.model_validate(c) for c in view.contacts],
                       open_opportunities=[opportunity_out(session, o) for o in view.open_opportunities],
                       open_opportunity_amount=view.open_amount,
                       open_activities=[ActivityOut.model_validate(a) for a in view.open_activities],
                       last_traces=[trace_out(t, lang) for t in view.last_traces],
                       open_offers=[OfferSummary.model_validate(o) for o in view.open_offers],
                       open_orders=[OrderSummary.model_validate(o) for o in view.open_orders],
                       open_items_total=view.open_items_total)


@router.get("/{customer_id}/traces", response_model=Page[TraceOut], summary="The timeline, newest first")
def traces(customer_id: RecordId, session: SessionDep, user: CurrentUser,
           lang: ReaderLanguage, kind: Annotated[list[str] | None, Query(max_length=20)] = None, limit: Limit = 50,
           offset: Offset = 0):
    """Each trace's summary in the reader's language (Accept-Language: de or en; German by default)."""
    rows, total = timeline.traces(session, user, customer_id, kind, limit, offset)
    return Page(items=[trace_out(t, lang) for t in rows], total=total, limit=limit, offset=offset)


def trace_out(trace: timeline.Trace, lang: str) -> TraceOut:
    return TraceOut.model_validate(trace).model_copy(update={"summary": timeline.summary_in(trace, lang)})


@router.get("/{customer_id}/notes", response_model=Page[NoteOut], summary="Notes, newest first")
def notes(customer_id: RecordId, session: SessionDep, user: CurrentUser,
          page: NotePage):
    return page_out(NoteOut, timeline.notes(session, user, customer_id, page), page)


@router.post("/{customer_id}/notes", response_model=NoteOut, status_code=201)
def add_note(customer_id: RecordId, body: NoteIn, session: SessionDep, user: CurrentUser):
    return timeline.add_note(session, user, customer_id, body.text)


@router.get("/{customer_id}/duplicates", response_model=Page[DuplicateOut],
            summary="Candidate duplicates, best first")
def duplicates(customer_id: RecordId, session: SessionDep, user: CurrentUser, limit: Limit = 50, offset: Offset = 0):
    return duplicates_page(duplicates_for(session, user, customer_id), limit, offset)


@router.post("/{customer_id}/merge", response_model=CustomerOut,
             summary="Merge another customer into this one (managers); the other becomes a redirect")
def merge(customer_id: RecordId, body: MergeIn, session: SessionDep, user: CurrentUser):
    return merge_customers(session, user, customer_id, body.merged_id)


@duplicates_router.get("", response_model=Page[DuplicateOut],
                       summary="Customers that may be the one described (before creating it), best first")
def find(session: SessionDep, user: CurrentUser, name: Annotated[str, Query(min_length=1, max_length=200)],
         vat_id: Annotated[str | None, Query(max_length=20)] = None,
         email: Annotated[list[str] | None, Query(max_length=10)] = None,
         phone: Annotated[list[str] | None, Query(max_length=10)] = None, limit: Limit = 50, offset: Offset = 0):
    return duplicates_page(duplicates_before_create(session, user, name, vat_id, email, phone), limit, offset)


@activities_router.post("", response_model=ActivityOut, status_code=201)
def add_activity(body: ActivityIn, session: SessionDep, user: CurrentUser):
    return timeline.add_activity(session, user, body.model_dump())


@activities_router.get("", response_model=Page[ActivityOut], summary="Activities: mine, a customer's, due before")
def list_activities(session: SessionDep, user: CurrentUser, customer_id: OptionalId = None,
                    owner: Annotated[str | None, Query(max_length=100)] = None, open_only: bool = True,
                    due_before: DateTimeFilter = None,
                    sort: sort_by(*timeline.ACTIVITY_SORTS) = "due_at", limit: Limit = 50, offset: Offset = 0):
    rows, total = timeline.list_activities(session, user, customer_id, owner, open_only, due_before, sort, limit,
                                           offset)
    return Page(items=[ActivityOut.model_validate(a) for a in rows], total=total, limit=limit, offset=offset)


@activities_router.post("/{activity_id}/done", response_model=ActivityOut)
def complete(activity_id: RecordId, session: SessionDep, user: CurrentUser):
    return timeline.complete_activity(session, user, activity_id)


