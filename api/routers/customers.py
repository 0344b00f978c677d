"""Customers with their sites, addresses and contacts (thin: parse, call the domain, shape)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.customer_schemas import (
    NOT_NULL_FIELDS,
    AddressIn,
    AddressOut,
    ContactIn,
    ContactOut,
    CustomerCreated,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    DuplicateOut,
    SiteIn,
    SiteOut,
)
from api.deps import CurrentUser, KontorDep, SessionDep
from api.params import Limit, Offset, RecordId, paging, sort_by
from api.schemas import Page, page_out, patch_changes, shown
from api.versioning import set_etag, versioned
from domain.customers import commands, queries
from domain.customers.access import PORTAL_HIDDEN_CUSTOMER_FIELDS, hidden_fields, readable_customer
from domain.customers.duplicates import find_duplicates
from domain.fields import Country

router = APIRouter(prefix="/customers", tags=["customers"])
SitePage = paging("name", *queries.SITE_SORTS)
AddressPage = paging("kind", *queries.ADDRESS_SORTS)
CustomerPrecondition = versioned("customer", "customer_id")
SearchText = Annotated[str | None, Query(max_length=200, description="searches number, name, VAT ID, contacts, cities")]


@router.post("", response_model=CustomerCreated, status_code=201,
             summary="Create a customer (number allocated); names the customers it may duplicate")
def create(body: CustomerIn, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    customer = commands.create_customer(session, user, body.model_dump(), kontor.settings.company_country)
    candidates = find_duplicates(session, customer.name, customer.vat_id, exclude_id=customer.id)
    return CustomerCreated(**CustomerOut.model_validate(customer).model_dump(),
                           possible_duplicates=[DuplicateOut(customer_id=c.customer.id, number=c.customer.number,
                                                             name=c.customer.name, score=c.score, reasons=c.reasons)
                                                for c in candidates])


@router.get("", response_model=Page[CustomerOut], summary="Customers: filter, search, sort, page")
def list_(session: SessionDep, user: CurrentUser, q: SearchText = None,
          status: Literal["lead", "active", "passive"] | None = None,
          owner: Annotated[str | None, Query(max_length=100)] = None,
          country: Annotated[Country | None, Query()] = None,
          industry: Annotated[str | None, Query(max_length=100)] = None,
          size: Literal["micro", "small", "medium", "large", "enterprise"] | None = None,
          tax_treatment: Literal["domestic", "eu_reverse_charge", "export"] | None = None,
          no_contact: bool | None = None, include_merged: bool = False,
          sort: sort_by(*queries.CUSTOMER_SORTS) = "name", limit: Limit = 50, offset: Offset = 0):
    f = queries.CustomerFilter(q=q, status=status, owner=owner, country=country, industry=industry, size=size,
                               tax_treatment=tax_treatment, no_contact=no_contact, include_merged=include_merged,
                               sort=sort, limit=limit, offset=offset)
    rows, total = queries.list_customers(session, user, f)
    hidden = hidden_fields(user, PORTAL_HIDDEN_CUSTOMER_FIELDS)
    return Page(items=[shown(CustomerOut, r, hidden) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{customer_id}", response_model=CustomerOut, summary="The customer (its ETag in the header)")
def get(customer_id: RecordId, session: SessionDep, user: CurrentUser, response: Response):
    customer = set_etag(response, "customer", readable_customer(session, user, customer_id))
    return shown(CustomerOut, customer, hidden_fields(user, PORTAL_HIDDEN_CUSTOMER_FIELDS))


@router.patch("/{customer_id}", response_model=CustomerOut,
              summary="Change the fields sent (send `version` or If-Match)")
def patch(customer_id: RecordId, body: CustomerPatch, session: SessionDep, user: CurrentUser, kontor: KontorDep,
          precondition: CustomerPrecondition, response: Response):
    changes = patch_changes(body, NOT_NULL_FIELDS)
    version = precondition.expected(changes.pop("version", None))
    return set_etag(response, "customer", commands.update_customer(
        session, user, customer_id, changes, kontor.settings.company_country, version))


@router.get("/{customer_id}/sites", response_model=Page[SiteOut])
def sites(customer_id: RecordId, session: SessionDep, user: CurrentUser, page: SitePage):
    return page_out(SiteOut, queries.customer_sites(session, user, customer_id, page), page)


@router.post("/{customer_id}/sites", response_model=SiteOut, status_code=201)
def add_site(customer_id: RecordId, body: SiteIn, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    return commands.add_site(session, user, customer_id, body.model_dump(),
                             kontor.settings.company_country)


@router.get("/{customer_id}/addresses", response_model=Page[AddressOut])
def addresses(customer_id: RecordId, session: SessionDep, user: CurrentUser, page: AddressPage,
              kind: Literal["main", "billing", "delivery"] | None = None):
    return page_out(AddressOut, queries.customer_addresses(session, user, customer_id, page, kind), page)


@router.post("/{customer_id}/addresses", response_model=AddressOut, status_code=201)
def add_address(customer_id: RecordId, body: AddressIn, session: SessionDep, user: CurrentUser):
    return commands.add_address(session, user, customer_id, body.model_dump())


@router.get("/{customer_id}/contacts", response_model=Page[ContactOut])
def contacts(customer_id: RecordId, session: SessionDep, user: CurrentUser, q: SearchText = None,
             receives: Literal["offers", "invoices", "dunning"] | None = None,
             sort: sort_by(*queries.CONTACT_SORTS) = "last_name", limit: Limit = 50, offset: Offset = 0):
    readable_customer(session, user, customer_id)
    f = queries.ContactFilter(q=q, customer_id=customer_id, receives=receives, sort=sort, limit=limit, offset=offset)
    rows, total = queries.list_contacts(session, user, f)
    return Page(items=[ContactOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/{customer_id}/contacts", response_model=ContactOut, status_code=201)
def add_contact(customer_id: RecordId, body: ContactIn, session: SessionDep, user: CurrentUser):
    return commands.add_contact(session, user, customer_id, body.model_dump())
