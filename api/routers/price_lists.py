"""Price lists with their items (a product's tiers for a period), and customers' special conditions."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.catalog_schemas import (
    PriceListIn,
    PriceListItemIn,
    PriceListItemOut,
    PriceListOut,
    SpecialConditionIn,
    SpecialConditionOut,
)
from api.deps import CurrentUser, SessionDep
from api.params import OptionalId, RecordId, paging
from api.schemas import Page, page_out
from domain.catalog import commands, queries
from domain.customers.access import PORTAL_HIDDEN_CONDITION_FIELDS, hidden_fields

router = APIRouter(prefix="/price-lists", tags=["catalog"])
conditions_router = APIRouter(prefix="/customers", tags=["catalog"])
PriceListPage = paging("code", *queries.PRICE_LIST_SORTS)
ItemPage = paging("product_id", *queries.ITEM_SORTS)
ConditionPage = paging("id", *queries.CONDITION_SORTS)


@router.post("", response_model=PriceListOut, status_code=201)
def create(body: PriceListIn, session: SessionDep, user: CurrentUser):
    return commands.create_price_list(session, user, body.model_dump())


@router.get("", response_model=Page[PriceListOut])
def list_(session: SessionDep, user: CurrentUser, page: PriceListPage,
          currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$")] = None):
    return page_out(PriceListOut, queries.price_lists(session, user, page, currency), page)


@router.get("/{price_list_id}", response_model=PriceListOut)
def get(price_list_id: RecordId, session: SessionDep, user: CurrentUser):
    return queries.readable_price_list(session, user, price_list_id)


@router.get("/{price_list_id}/items", response_model=Page[PriceListItemOut])
def items(price_list_id: RecordId, session: SessionDep, user: CurrentUser,
          page: ItemPage, product_id: OptionalId = None):
    return page_out(PriceListItemOut, queries.price_list_items(session, user, price_list_id, page, product_id), page)


@router.post("/{price_list_id}/items", response_model=PriceListItemOut, status_code=201)
def add_item(price_list_id: RecordId, body: PriceListItemIn, session: SessionDep, user: CurrentUser):
    return commands.add_price_list_item(session, user, price_list_id, body.product_id,
                                        [(t.min_quantity, t.unit_price) for t in body.tiers],
                                        body.valid_from, body.valid_to)


@conditions_router.get("/{customer_id}/special-conditions", response_model=Page[SpecialConditionOut])
def special_conditions(customer_id: RecordId, session: SessionDep, user: CurrentUser,
                       page: ConditionPage, product_id: OptionalId = None):
    return page_out(SpecialConditionOut, queries.special_conditions(session, user, customer_id, page, product_id),
                    page, hidden_fields(user, PORTAL_HIDDEN_CONDITION_FIELDS))


@conditions_router.post("/{customer_id}/special-conditions", response_model=SpecialConditionOut, status_code=201)
def add_special_condition(customer_id: RecordId, body: SpecialConditionIn, session: SessionDep, user: CurrentUser):
    return commands.add_special_condition(session, user, customer_id, body.model_dump())
