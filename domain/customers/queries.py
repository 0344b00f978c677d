"""Reading the customer center: filtered, sorted, paged lists, scoped to what the user may see."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.customers.access import may_read_customers, readable_customer
from domain.customers.models import Address, Contact, Customer, Site
from kernel.errors import Forbidden, NotFound
from kernel.listing import PageRequest, like_pattern, page_of, sorted_page
from kernel.principal import Principal

CUSTOMER_SORTS = {"number": Customer.number, "name": Customer.name, "status": Customer.status,
                  "created_at": Customer.created_at, "updated_at": Customer.updated_at}
CONTACT_SORTS = {"last_name": Contact.last_name, "email": Contact.email, "created_at": Contact.created_at}


@dataclass
class CustomerFilter:
    q: str | None = None  # full text: number, name, VAT ID, contacts' names and e-mails, cities
    status: str | None = None
    owner: str | None = None
    country: str | None = None
    industry: str | None = None
    size: str | None = None
    tax_treatment: str | None = None
    no_contact: bool | None = None
    include_merged: bool = False
    sort: str = "name"
    limit: int = 50
    offset: int = 0


def list_customers(session: Session, who: Principal, f: CustomerFilter) -> tuple[list[Customer], int]:
    if not may_read_customers(who):
        raise Forbidden("reading customers needs a staff role or a portal account")
    statement = select(Customer)
    if who.is_portal:
        statement = statement.where(Customer.id == who.customer_id)
    if not f.include_merged:
        statement = statement.where(Customer.merged_into_id.is_(None))
    for name in ("status", "owner", "country", "industry", "size", "tax_treatment", "no_contact"):
        value = getattr(f, name)
        if value is not None:
            statement = statement.where(getattr(Customer, name) == value)
    if f.q:
        statement = statement.where(Customer.search_text.like(like_pattern(f.q.strip()), escape="\\"))
    return sorted_page(session, statement, f.sort, CUSTOMER_SORTS, Customer.id, f.limit, f.offset)


SITE_SORTS = {"id": Site.id, "name": Site.name, "created_at": Site.created_at}
ADDRESS_SORTS = {"id": Address.id, "kind": Address.kind, "city": Address.city, "postal_code": Address.postal_code,
                 "country": Address.country}


def customer_sites(session: Session, who: Principal, customer_id: int, page: PageRequest) -> tuple[list[Site], int]:
    readable_customer(session, who, customer_id)
    return page_of(session, select(Site).where(Site.customer_id == customer_id), page, SITE_SORTS, Site.id)


def customer_addresses(session: Session, who: Principal, customer_id: int, page: PageRequest,
                       kind: str | None = None) -> tuple[list[Address], int]:
    readable_customer(session, who, customer_id)
    statement = select(Address).where(Address.customer_id == customer_id)
    if kind:
        statement = statement.where(Address.kind == kind)
    return page_of(session, statement, page, ADDRESS_SORTS, Address.id)


@dataclass
class ContactFilter:
    q: str | None = None  # name or e-mail
    customer_id: int | None = None
    receives: str | None = None  # offers | invoices | dunning
    language: str | None = None
    sort: str = "last_name"
    limit: int = 50
    offset: int = 0


def list_contacts(session: Session, who: Principal, f: ContactFilter) -> tuple[list[Contact], int]:
    if not may_read_customers(who):
        raise Forbidden("reading contacts needs a staff role or a portal account")
    statement = select(Contact)
    if who.is_portal:
        statement = statement.where(Contact.customer_id == who.customer_id)
    if f.customer_id is not None:
        statement = statement.where(Contact.customer_id == f.customer_id)
    if f.language:
        statement = statement.where(Contact.language == f.language)
    if f.q:
        pattern = like_pattern(f.q.strip())
        statement = statement.where(
            Contact.last_name.ilike(pattern, escape="\\")
            | func.coalesce(Contact.first_name, "").ilike(pattern, escape="\\")
            | func.coalesce(Contact.email, "").ilike(pattern, escape="\\"))
    if f.receives:
        statement = statement.where(getattr(Contact, f"receives_{f.receives}").is_(True))
    return sorted_page(session, statement, f.sort, CONTACT_SORTS, Contact.id, f.limit, f.offset)


def readable_contact(session: Session, who: Principal, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    readable_customer(session, who, contact.customer_id, ("contact", contact_id))  # as if it did not exist
    return contact
