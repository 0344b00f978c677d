"""Merging two customers: everything of the merged one moves to the survivor (contacts, addresses,
sites, opportunities, project groups, special conditions, leads, portal users, activities, notes,
traces, documents); the merged one stays as a redirect and the merge is a trace on the survivor."""
from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from domain.catalog.models import SpecialCondition
from domain.customers.access import editable_customer
from domain.customers.commands import refresh_search_text
from domain.customers.models import Address, Contact, Customer, Site
from domain.customers.timeline import Activity, Note, Trace
from domain.lifecycle import TraceEntry, change_state
from domain.sales.models import Lead, Opportunity, OpportunityGroup
from domain.users import User
from kernel.documents import Document
from kernel.errors import Conflict, Forbidden
from kernel.principal import Principal

# Every table with a customer_id that follows the survivor (later documents, offers, orders … join here).
MOVING = (Contact, Address, Site, Opportunity, OpportunityGroup, SpecialCondition, Lead, User, Activity, Note, Trace)


def merge_customers(session: Session, who: Principal, survivor_id: int, merged_id: int) -> Customer:
    survivor = editable_customer(session, who, survivor_id)
    merged = editable_customer(session, who, merged_id)
    if not who.has_any("manager"):
        raise Forbidden("merging customers needs the role manager")
    if survivor_id == merged_id:
        raise Conflict("a customer cannot be merged into itself")
    moved = {}
    for model in MOVING:
        result = session.execute(update(model).where(model.customer_id == merged.id)
                                 .values(customer_id=survivor.id), execution_options={"synchronize_session": False})
        moved[model.__tablename__] = result.rowcount or 0
    session.execute(update(Customer).where(Customer.merged_into_id == merged.id).values(merged_into_id=survivor.id),
                    execution_options={"synchronize_session": False})
    result = session.execute(update(Document).where(Document.customer_id == merged.id).values(
        customer_id=survivor.id, owner_id=case((Document.owner_type == "customer", survivor.id),
                                               else_=Document.owner_id)),
        execution_options={"synchronize_session": False})
    moved["document"] = result.rowcount or 0
    session.expire_all()
    survivor, merged = session.get(Customer, survivor_id), session.get(Customer, merged_id)
    for field in ("vat_id", "industry", "size", "delivery_terms", "credit_limit", "price_list_id",
                  "preferred_contact_id", "preferred_site_id"):  # what the survivor lacks, it takes over
        if getattr(survivor, field) is None and getattr(merged, field) is not None:
            setattr(survivor, field, getattr(merged, field))
    merged.merged_into_id = survivor.id
    merged.preferred_contact_id = merged.preferred_site_id = None
    change_state(session, merged, "passive", TraceEntry(
        "customer_merged", who.username, f"{merged.number} {merged.name} merged into this customer",
        customer_id=survivor.id, details={"moved": {k: v for k, v in moved.items() if v},
                                          "params": {"number": merged.number, "name": merged.name}}))
    refresh_search_text(session, survivor)
    refresh_search_text(session, merged)
    return survivor
