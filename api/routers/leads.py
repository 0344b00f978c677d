"""Leads: create (sales, mail intake), qualify or disqualify, convert into a customer."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, KontorDep, SessionDep
from api.params import Limit, Offset, RecordId, sort_by
from api.sales_schemas import LEAD_NOT_NULL, ConvertLead, LeadIn, LeadOut, LeadPatch, LeadSource, LeadStatus
from api.schemas import Page, patch_changes
from domain.sales import leads

router = APIRouter(prefix="/leads", tags=["sales"])


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


@router.get("/{lead_id}", response_model=LeadOut)
def get(lead_id: RecordId, session: SessionDep, user: CurrentUser):
    return leads.get_lead(session, user, lead_id)


@router.patch("/{lead_id}", response_model=LeadOut)
def patch(lead_id: RecordId, body: LeadPatch, session: SessionDep, user: CurrentUser):
    changes = patch_changes(body, LEAD_NOT_NULL)
    return leads.update_lead(session, user, lead_id, changes)


@router.post("/{lead_id}/convert", response_model=LeadOut,
             summary="Make the lead a customer (or part of one), its person a contact, optionally an opportunity")
def convert(lead_id: RecordId, body: ConvertLead, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    customer = {"existing_customer_id": body.existing_customer_id} if body.existing_customer_id else None
    opportunity = body.opportunity.model_dump(exclude_none=True) if body.opportunity else None
    return leads.convert_lead(session, user, lead_id, kontor.settings.company_country, customer, opportunity)
