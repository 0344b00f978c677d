"""Opportunities (sales projects): create, move through phases, win or lose; project groups of
alternatives (one won closes the others as lost); phase set-up by managers."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import editable_customer, may_read_customers, readable_customer
from domain.customers.commands import activate_for_business
from domain.customers.timeline import record_trace
from domain.lifecycle import check_move
from domain.sales.models import Opportunity, OpportunityGroup, OpportunityPhase
from kernel.clock import utcnow
from kernel.errors import Conflict, ExpectedVersion, Forbidden, NotFound, ValidationFailed, require_version
from kernel.money import to_cents
from kernel.principal import Principal


def phases(session: Session) -> list[OpportunityPhase]:
    return list(session.scalars(select(OpportunityPhase).where(OpportunityPhase.active.is_(True))
                                .order_by(OpportunityPhase.position)))


def readable_phases(session: Session, who: Principal) -> list[OpportunityPhase]:
    if not may_read_customers(who):
        raise Forbidden("the sales phases are for staff and portal accounts")
    return phases(session)


def phase_by_key(session: Session, key: str, field: str = "phase") -> OpportunityPhase:
    phase = session.scalar(select(OpportunityPhase).where(OpportunityPhase.key == key,
                                                          OpportunityPhase.active.is_(True)))
    if phase is None:
        known = ", ".join(p.key for p in phases(session))
        raise ValidationFailed(f"unknown phase {key!r}", [{"field": field, "message": f"one of {known}"}])
    return phase


def save_phase(session: Session, who: Principal, key: str, data: dict) -> OpportunityPhase:
    """Add a phase or change one (name, position, probability, maximum days, active)."""
    if not who.has_any("manager"):
        raise Forbidden("setting up the phases needs the role manager")
    phase = session.scalar(select(OpportunityPhase).where(OpportunityPhase.key == key))
    if phase is None:
        phase = OpportunityPhase(key=key, **data)
        session.add(phase)
    else:
        if phase.outcome and "outcome" in data and data["outcome"] != phase.outcome:
            raise Conflict(f"phase {key!r} closes opportunities as {phase.outcome}; that cannot change")
        for name, value in data.items():
            setattr(phase, name, value)
    session.flush()
    return phase


def create_group(session: Session, who: Principal, customer_id: int, name: str) -> OpportunityGroup:
    editable_customer(session, who, customer_id)
    group = OpportunityGroup(customer_id=customer_id, name=name)
    session.add(group)
    session.flush()
    return group


def create_opportunity(session: Session, who: Principal, data: dict) -> Opportunity:
    customer = editable_customer(session, who, data["customer_id"])
    data = dict(data)
    phase = phase_by_key(session, data.pop("phase", None) or "qualification")
    if phase.outcome:
        raise ValidationFailed("a new opportunity starts in an open phase", [{"field": "phase", "message": "open"}])
    if data.get("group_id") is not None:
        _require_group_of(session, data["group_id"], customer.id)
    if data.get("probability") is None:
        data["probability"] = phase.probability
    if data.get("owner") is None:
        data["owner"] = customer.owner or who.username
    data.setdefault("currency", customer.currency)
    opportunity = Opportunity(phase_id=phase.id, phase_entered_at=utcnow(), **data)
    session.add(opportunity)
    session.flush()
    return opportunity


def move_opportunity(session: Session, who: Principal, opportunity_id: int, phase_key: str,
                     lost_reason: str | None = None, expected_version: ExpectedVersion = None) -> Opportunity:
    """Into another phase; a closing phase (won/lost) closes it; winning one of a project group
    loses its open alternatives."""
    opportunity = _editable(session, who, opportunity_id, expected_version)
    current = session.get(OpportunityPhase, opportunity.phase_id)
    if current.outcome:
        raise Conflict(f"the opportunity is {current.outcome} already")
    target = phase_by_key(session, phase_key)
    if target.outcome == "lost" and not lost_reason:
        raise ValidationFailed("a lost opportunity needs the reason", [{"field": "lost_reason",
                                                                        "message": "required when lost"}])
    _enter(session, opportunity, target, lost_reason)
    record_trace(session, opportunity.customer_id, f"opportunity_{target.outcome}" if target.outcome else
                 "phase_change", who.username, f"{opportunity.title}: {current.name} → {target.name}"
                 + (f" ({lost_reason})" if lost_reason else ""), "opportunity", opportunity.id)
    if target.outcome == "won":
        activate_for_business(session, opportunity.customer_id, who.username,
                              f"opportunity {opportunity.title!r} won",
                              {"variant": "opportunity", "title": opportunity.title})
    if target.outcome == "won" and opportunity.group_id is not None:
        lost = phase_by_key(session, "lost")
        for alternative in session.scalars(select(Opportunity).where(Opportunity.group_id == opportunity.group_id,
                                                                     Opportunity.id != opportunity.id,
                                                                     Opportunity.closed_at.is_(None))):
            _enter(session, alternative, lost, f"alternative {opportunity.title!r} won")
    session.flush()
    return opportunity


def update_opportunity(session: Session, who: Principal, opportunity_id: int, changes: dict,
                       expected_version: ExpectedVersion = None) -> Opportunity:
    opportunity = _editable(session, who, opportunity_id, expected_version)
    if changes.get("group_id") is not None:
        _require_group_of(session, changes["group_id"], opportunity.customer_id)
    for name, value in changes.items():
        setattr(opportunity, name, value)
    session.flush()
    return opportunity


def readable_opportunity(session: Session, who: Principal, opportunity_id: int) -> Opportunity:
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None or who.is_portal:  # the pipeline is internal: staff only
        raise NotFound(f"opportunity {opportunity_id} not found")
    readable_customer(session, who, opportunity.customer_id, ("opportunity", opportunity_id))
    return opportunity


def _editable(session: Session, who: Principal, opportunity_id: int, expected_version: ExpectedVersion) -> Opportunity:
    opportunity = readable_opportunity(session, who, opportunity_id)
    customer = readable_customer(session, who, opportunity.customer_id)
    if who.is_portal or not (who.has_any("manager") or opportunity.owner == who.username
                             or ("sales" in who.groups and customer.owner in (None, who.username))):
        raise Forbidden(f"the opportunity belongs to {opportunity.owner}")
    require_version(f"opportunity {opportunity.id}", opportunity.version, expected_version)
    return opportunity


def _enter(session: Session, opportunity: Opportunity, phase: OpportunityPhase, lost_reason: str | None) -> None:
    current = session.get(OpportunityPhase, opportunity.phase_id)
    check_move(opportunity, current.outcome or "open", phase.outcome or "open")
    opportunity.phase_id = phase.id
    opportunity.phase_entered_at = utcnow()
    opportunity.probability = phase.probability
    if phase.outcome:
        opportunity.closed_at = utcnow()
        opportunity.lost_reason = lost_reason if phase.outcome == "lost" else None


def _require_group_of(session: Session, group_id: int, customer_id: int) -> None:
    owner = session.scalar(select(OpportunityGroup.customer_id).where(OpportunityGroup.id == group_id))
    if owner != customer_id:
        raise ValidationFailed("not a project group of this customer", [{"field": "group_id",
                                                                         "message": f"no group {group_id} here"}])


def weighted(amount: Decimal, probability: int) -> Decimal:
    return to_cents(amount * probability / Decimal(100))

