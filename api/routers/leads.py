"""Leads: create (sales, mail intake), qualify or disqualify, convert into a customer."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, KontorDep, SessionDep
from api.params import Limit, Offset, RecordId, sort_by
from api.sales_schemas import (
    LEAD_NOT_NULL,
    ConvertedContact,
    ConvertedCustomer,
    ConvertedLeadOut,
    ConvertLead,
    LeadIn,
    LeadOut,
    LeadPatch,
    LeadSource,
    LeadStatus,
)
from api.schemas import Page, patch_changes
from api.versioning import set_etag, versioned
from domain.sales import leads
from domain.sales.models import OpportunityPhase

router = APIRouter(prefix="/leads", tags=["sales"])
LeadPrecondition = versioned("lead", "lead_id")


@router.post("", response_model=LeadOut, status_code=201)
def create(body: LeadIn, session: SessionDep, user: CurrentUser):
    return leads.create_lead(session, user, body.model_dump())


@router.get("", response_model=Page[LeadOut], summary="Leads: search, filter, sort, page")
def list_(session: SessionDep, user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None,
          status: LeadStatus | None = None, source: LeadSource | None = None,
          owner: Annotated[str | None, Query(max_length=100)] = None,
          min_score: Annotated[int | None, Query(ge=0, le=100)] = None,
          sort: sort_by(*leads.LEAD_SORTS) = "-created_at", limit: Limit = 50, offset: Offset = 0):
    f = leads.LeadFilter(q=q, status=status, source=source, owner=owner, min_score=min_score, sort=sort, limit=limit,
                         offset=offset)
    rows, total = leads.list_leads(session, user, f)
    return Page(items=[LeadOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{lead_id}", response_model=LeadOut, summary="The lead (its ETag in the header)")
def get(lead_id: RecordId, session: SessionDep, user: CurrentUser, response: Response):
    return set_etag(response, "lead", leads.get_lead(session, user, lead_id))


@router.patch("/{lead_id}", response_model=LeadOut, summary="Change the fields sent (send `version` or If-Match)")
def patch(lead_id: RecordId, body: LeadPatch, session: SessionDep, user: CurrentUser, precondition: LeadPrecondition,
          response: Response):
    changes = patch_changes(body, LEAD_NOT_NULL)
    version = precondition.expected(changes.pop("version", None))
    return set_etag(response, "lead", leads.update_lead(session, user, lead_id, changes, version))


@router.post("/{lead_id}/convert", response_model=ConvertedLeadOut,
             summary="Make the lead a customer (or part of one), its person a contact, optionally an opportunity; "
                     "answers with what it made")
def convert(lead_id: RecordId, body: ConvertLead, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    customer = {"existing_customer_id": body.existing_customer_id} if body.existing_customer_id else None
    opportunity = body.opportunity.model_dump(exclude_none=True) if body.opportunity else None
    made = leads.convert_lead(session, user, lead_id, kontor.settings.company_country, customer, opportunity)
    opened = made.opportunity
    return ConvertedLeadOut.model_validate({
        **LeadOut.model_validate(made.lead).model_dump(),
        "customer": {**ConvertedCustomer.model_validate(made.customer).model_dump(), "created": made.customer_created},
        "contact": made.contact and ConvertedContact.model_validate(made.contact),
        "opportunity": opened and {"id": opened.id, "title": opened.title, "amount": opened.amount,
                                   "currency": opened.currency,
                                   "phase": session.get(OpportunityPhase, opened.phase_id).key}})
