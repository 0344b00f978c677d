"""Opportunities (sales projects), their phases, project groups and the pipeline."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, SessionDep
from api.params import DayFilter, Limit, Offset, OptionalId, RecordId, sort_by
from api.sales_schemas import (
    OPPORTUNITY_NOT_NULL,
    GroupIn,
    GroupOut,
    MoveOpportunity,
    OpportunityIn,
    OpportunityOut,
    OpportunityPatch,
    PhaseIn,
    PhaseKey,
    PhaseOut,
    PipelineOut,
)
from api.schemas import Page, patch_changes
from api.versioning import set_etag, versioned
from domain.fields import Currency
from domain.sales import opportunities as handlers
from domain.sales.models import OpportunityPhase
from domain.sales.opportunities import weighted
from domain.sales.pipeline import OPPORTUNITY_SORTS, OpportunityFilter, list_opportunities, pipeline

router = APIRouter(prefix="/opportunities", tags=["sales"])
OpportunityPrecondition = versioned("opportunity", "opportunity_id")
MovePrecondition = versioned("opportunity", "opportunity_id", required=False)
phases_router = APIRouter(prefix="/opportunity-phases", tags=["sales"])
groups_router = APIRouter(prefix="/opportunity-groups", tags=["sales"])


def opportunity_out(session, opportunity) -> OpportunityOut:
    phase = session.get(OpportunityPhase, opportunity.phase_id)
    return OpportunityOut(id=opportunity.id, customer_id=opportunity.customer_id, group_id=opportunity.group_id,
                          title=opportunity.title, phase=phase.key, phase_entered_at=opportunity.phase_entered_at,
                          state=phase.outcome or "open", amount=opportunity.amount, currency=opportunity.currency,
                          probability=opportunity.probability,
                          weighted_amount=weighted(opportunity.amount, opportunity.probability),
                          expected_close=opportunity.expected_close, owner=opportunity.owner,
                          lost_reason=opportunity.lost_reason, closed_at=opportunity.closed_at,
                          version=opportunity.version)


@router.post("", response_model=OpportunityOut, status_code=201)
def create(body: OpportunityIn, session: SessionDep, user: CurrentUser):
    data = body.model_dump(exclude_none=True)
    return opportunity_out(session, handlers.create_opportunity(session, user, data))


@router.get("", response_model=Page[OpportunityOut], summary="Opportunities: filter, search, sort, page")
def list_(session: SessionDep, user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None,
          customer_id: OptionalId = None, owner: Annotated[str | None, Query(max_length=100)] = None,
          phase: PhaseKey | None = None, state: Literal["open", "won", "lost", "all"] = "open",
          group_id: OptionalId = None, close_before: DayFilter = None,
          sort: sort_by(*OPPORTUNITY_SORTS) = "expected_close", limit: Limit = 50, offset: Offset = 0):
    f = OpportunityFilter(q=q, customer_id=customer_id, owner=owner, phase=phase,
                          state=None if state == "all" else state, group_id=group_id, close_before=close_before,
                          sort=sort, limit=limit, offset=offset)
    rows, total = list_opportunities(session, user, f)
    return Page(items=[opportunity_out(session, r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/pipeline", response_model=PipelineOut, summary="Per open phase: count, amount, weighted, overdue")
def get_pipeline(session: SessionDep, user: CurrentUser, owner: Annotated[str | None, Query(max_length=100)] = None,
                 currency: Annotated[Currency, Query(json_schema_extra={"pattern": r"^[A-Z]{3}$"})] = "EUR"):
    rows = pipeline(session, user, owner, currency)
    return PipelineOut(currency=currency, owner=owner, phases=[vars(r) for r in rows],
                       total_amount=sum((r.amount for r in rows), Decimal(0)),
                       total_weighted_amount=sum((r.weighted_amount for r in rows), Decimal(0)))


@router.get("/{opportunity_id}", response_model=OpportunityOut, summary="The opportunity (its ETag in the header)")
def get(opportunity_id: RecordId, session: SessionDep, user: CurrentUser, response: Response):
    opportunity = handlers.readable_opportunity(session, user, opportunity_id)
    return opportunity_out(session, set_etag(response, "opportunity", opportunity))


@router.patch("/{opportunity_id}", response_model=OpportunityOut,
              summary="Change the fields sent (send `version` or If-Match)")
def patch(opportunity_id: RecordId, body: OpportunityPatch, session: SessionDep, user: CurrentUser,
          precondition: OpportunityPrecondition, response: Response):
    changes = patch_changes(body, OPPORTUNITY_NOT_NULL)
    version = precondition.expected(changes.pop("version", None))
    opportunity = handlers.update_opportunity(session, user, opportunity_id, changes, version)
    return opportunity_out(session, set_etag(response, "opportunity", opportunity))


@router.post("/{opportunity_id}/move", response_model=OpportunityOut,
             summary="Into another phase; won/lost close it (a won one loses its group's alternatives)")
def move(opportunity_id: RecordId, body: MoveOpportunity, session: SessionDep, user: CurrentUser,
         precondition: MovePrecondition, response: Response):
    opportunity = handlers.move_opportunity(session, user, opportunity_id, body.phase, body.lost_reason,
                                            precondition.expected(body.version))
    return opportunity_out(session, set_etag(response, "opportunity", opportunity))


@phases_router.get("", response_model=list[PhaseOut])
def list_phases(session: SessionDep, user: CurrentUser):
    return handlers.readable_phases(session, user)


@phases_router.put("/{key}", response_model=PhaseOut, summary="Add or change a phase (managers)")
def put_phase(key: PhaseKey, body: PhaseIn, session: SessionDep, user: CurrentUser):
    return handlers.save_phase(session, user, key, body.model_dump())


@groups_router.post("", response_model=GroupOut, status_code=201, summary="A project group of alternatives")
def create_group(body: GroupIn, session: SessionDep, user: CurrentUser):
    return handlers.create_group(session, user, body.customer_id, body.name)
