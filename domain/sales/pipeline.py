"""Reading opportunities: the filtered list and the pipeline per phase (count, amount, weighted
amount, overdue). Alternatives of a project group count once in the pipeline: with the largest
weighted amount among them, so the forecast does not add up projects that exclude each other."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import require_staff, require_staff_reader
from domain.sales.models import Opportunity, OpportunityPhase
from domain.sales.opportunities import phases, weighted
from kernel.clock import utcnow
from kernel.listing import like_pattern, sorted_page
from kernel.principal import Principal

OPPORTUNITY_SORTS = {"title": Opportunity.title, "amount": Opportunity.amount, "created_at": Opportunity.created_at,
                     "expected_close": Opportunity.expected_close, "probability": Opportunity.probability}


@dataclass
class OpportunityFilter:
    q: str | None = None
    customer_id: int | None = None
    owner: str | None = None
    phase: str | None = None
    state: str | None = "open"  # open | won | lost | None (all)
    group_id: int | None = None
    close_before: date | None = None
    sort: str = "expected_close"
    limit: int = 50
    offset: int = 0


def _scoped(who: Principal):
    """The sales pipeline (amounts, probabilities, owners) is internal: staff only."""
    require_staff_reader(who, "opportunities")
    return select(Opportunity)


def list_opportunities(session: Session, who: Principal, f: OpportunityFilter) -> tuple[list[Opportunity], int]:
    statement = _scoped(who).join(OpportunityPhase, OpportunityPhase.id == Opportunity.phase_id)
    if f.state == "open":
        statement = statement.where(OpportunityPhase.outcome.is_(None))
    elif f.state in ("won", "lost"):
        statement = statement.where(OpportunityPhase.outcome == f.state)
    for name in ("customer_id", "owner", "group_id"):
        if getattr(f, name) is not None:
            statement = statement.where(getattr(Opportunity, name) == getattr(f, name))
    if f.phase:
        statement = statement.where(OpportunityPhase.key == f.phase)
    if f.close_before:
        statement = statement.where(Opportunity.expected_close < f.close_before)
    if f.q:
        statement = statement.where(Opportunity.title.ilike(like_pattern(f.q.strip()), escape="\\"))
    return sorted_page(session, statement, f.sort, OPPORTUNITY_SORTS, Opportunity.id, f.limit, f.offset)


@dataclass
class PipelinePhase:
    key: str
    name: str
    probability: int
    max_days: int | None
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted_amount: Decimal = Decimal("0.00")
    overdue: int = 0
    overdue_ids: list[int] = field(default_factory=list)


def pipeline(session: Session, who: Principal, owner: str | None = None, currency: str = "EUR",
             now: datetime | None = None) -> list[PipelinePhase]:
    """The open phases with what is in them (one currency; amounts are not converted)."""
    require_staff(who, "the sales pipeline")
    now = now or utcnow()
    rows = {p.id: PipelinePhase(p.key, p.name, p.probability, p.max_days) for p in phases(session) if not p.outcome}
    statement = _scoped(who).where(Opportunity.phase_id.in_(rows), Opportunity.currency == currency)
    if owner:
        statement = statement.where(Opportunity.owner == owner)
    best_of_group: dict[int, tuple[Decimal, int]] = {}
    for opportunity in session.scalars(statement):
        row = rows[opportunity.phase_id]
        row.count += 1
        row.amount += opportunity.amount
        value = weighted(opportunity.amount, opportunity.probability)
        if opportunity.group_id is None:
            row.weighted_amount += value
        elif value > best_of_group.get(opportunity.group_id, (Decimal(-1), 0))[0]:
            best_of_group[opportunity.group_id] = (value, opportunity.phase_id)
        if row.max_days is not None and opportunity.phase_entered_at + timedelta(days=row.max_days) < now:
            row.overdue += 1
            row.overdue_ids.append(opportunity.id)
    for value, phase_id in best_of_group.values():
        rows[phase_id].weighted_amount += value
    return list(rows.values())
