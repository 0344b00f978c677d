"""Leads: a person or company that showed interest. Created by sales or the mail intake, qualified
or disqualified, and converted into a customer (with its contact and a first opportunity). A lead is
changed by its owner, by anyone who works on leads while it has no owner, and by managers."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from domain.customers.commands import add_contact, create_customer
from domain.customers.models import Contact, Customer
from domain.lifecycle import TraceEntry, change_state
from domain.sales.models import Lead, Opportunity
from domain.sales.opportunities import create_opportunity
from kernel.errors import Conflict, ExpectedVersion, Forbidden, NotFound, ValidationFailed, require_version
from kernel.listing import like_pattern, sorted_page
from kernel.principal import STAFF_ROLES, Principal

LEAD_WRITERS = ("sales", "manager", "integration")
LEAD_SORTS = {"created_at": Lead.created_at, "score": Lead.score, "company_name": Lead.company_name,
              "last_name": Lead.last_name}


def _require_writer(who: Principal) -> None:
    if who.is_portal or not who.has_any(*LEAD_WRITERS):
        raise Forbidden("working on leads needs the role sales or manager")


def _require_reader(who: Principal) -> None:
    if who.is_portal or not who.has_any(*STAFF_ROLES, "integration"):
        raise Forbidden("leads are for staff")


def create_lead(session: Session, who: Principal, data: dict) -> Lead:
    _require_writer(who)
    if not (data.get("company_name") or data.get("last_name") or data.get("email")):
        raise ValidationFailed("a lead needs a company, a name or an e-mail address",
                               [{"field": f, "message": "one of these is required"}
                                for f in ("company_name", "last_name", "email")])
    lead = Lead(**data)
    if lead.owner is None and "sales" in who.groups:
        lead.owner = who.username
    session.add(lead)
    session.flush()
    return lead


def get_lead(session: Session, who: Principal, lead_id: int) -> Lead:
    _require_reader(who)
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(f"lead {lead_id} not found")
    return lead


def editable_lead(session: Session, who: Principal, lead_id: int) -> Lead:
    _require_writer(who)
    lead = get_lead(session, who, lead_id)
    if lead.owner not in (None, who.username) and not who.has_any("manager"):
        raise Forbidden(f"lead {lead_id} belongs to {lead.owner}; only they or a manager change it")
    return lead


def update_lead(session: Session, who: Principal, lead_id: int, changes: dict,
                expected_version: ExpectedVersion = None) -> Lead:
    lead = editable_lead(session, who, lead_id)
    require_version(f"lead {lead_id}", lead.version, expected_version)
    if lead.status == "converted":
        raise Conflict(f"lead {lead_id} was converted into customer {lead.customer_id}; change the customer")
    if changes.get("status") == "disqualified" and not (changes.get("disqualified_reason") or lead.disqualified_reason):
        raise ValidationFailed("say why the lead is disqualified", [{"field": "disqualified_reason",
                                                                     "message": "required when disqualified"}])
    if changes.get("status") == "converted":
        raise ValidationFailed("convert a lead with /leads/{id}/convert", [{"field": "status",
                                                                            "message": "not settable"}])
    for name, value in changes.items():
        if name != "status":
            setattr(lead, name, value)
    if "status" in changes:
        change_state(session, lead, changes["status"])
    session.flush()
    return lead


@dataclass(frozen=True)
class Conversion:
    """What converting a lead made: the customer (new, or the existing one it joined), the contact of
    its person (None for a company without a person) and the opportunity (None when none was asked for)."""
    lead: Lead
    customer: Customer
    customer_created: bool
    contact: Contact | None
    opportunity: Opportunity | None


def convert_lead(session: Session, who: Principal, lead_id: int, home_country: str, customer: dict | None = None,
                 opportunity: dict | None = None) -> Conversion:
    """The lead becomes a customer (or joins an existing one), its person a contact, and optionally
    an opportunity is opened; all in this one transaction."""
    lead = editable_lead(session, who, lead_id)
    if lead.status in ("converted", "disqualified"):
        raise Conflict(f"lead {lead_id} is {lead.status}")
    customer_data = dict(customer or {})
    existing_id = customer_data.pop("existing_customer_id", None)
    created = existing_id is None
    if created:
        name = lead.company_name or " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email
        existing_id = create_customer(session, who, {"name": name, "owner": lead.owner, **customer_data},
                                      home_country).id
    contact = None
    if lead.last_name or lead.email:  # receives what nobody at the customer receives yet (domain.customers.recipients)
        contact = add_contact(session, who, existing_id, {
            "first_name": lead.first_name, "last_name": lead.last_name or lead.email.split("@")[0],
            "email": lead.email, "phone": lead.phone})
    made = None
    if opportunity:
        made = create_opportunity(session, who, {"customer_id": existing_id, "lead_id": lead.id,
                                                 "amount": Decimal(opportunity.get("amount") or 0), **{
                                                     k: v for k, v in opportunity.items() if k != "amount"}})
    lead.customer_id = existing_id
    change_state(session, lead, "converted", TraceEntry(
        "lead_converted", who.username,
        f"lead from {lead.source}: {lead.company_name or lead.last_name or lead.email}",
        details={"params": {"source": lead.source, "name": lead.company_name or lead.last_name or lead.email}}))
    session.flush()
    return Conversion(lead, session.get(Customer, existing_id), created, contact, made)


@dataclass
class LeadFilter:
    q: str | None = None  # company, name or e-mail
    status: str | None = None
    source: str | None = None
    owner: str | None = None
    min_score: int | None = None
    sort: str = "-created_at"
    limit: int = 50
    offset: int = 0


def list_leads(session: Session, who: Principal, f: LeadFilter) -> tuple[list[Lead], int]:
    _require_reader(who)
    statement = select(Lead)
    for name in ("status", "source", "owner"):
        if getattr(f, name) is not None:
            statement = statement.where(getattr(Lead, name) == getattr(f, name))
    if f.min_score is not None:
        statement = statement.where(Lead.score >= f.min_score)
    if f.q:
        pattern = like_pattern(f.q.strip())
        statement = statement.where(or_(*(func.lower(func.coalesce(column, "")).like(pattern, escape="\\")
                                          for column in (Lead.company_name, Lead.last_name, Lead.first_name,
                                                         Lead.email))))
    return sorted_page(session, statement, f.sort, LEAD_SORTS, Lead.id, f.limit, f.offset)
