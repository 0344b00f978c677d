"""Products and services, and the price lookup for a customer."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.catalog_schemas import PRODUCT_NOT_NULL, PriceOut, ProductIn, ProductOut, ProductPatch, Quantity, Visibility
from api.deps import CurrentUser, SessionDep
from api.params import DayFilter, Limit, Offset, RecordId, sort_by
from api.schemas import Page, patch_changes
from api.versioning import set_etag, versioned
from domain.catalog import commands, queries
from kernel.principal import Principal

router = APIRouter(prefix="/products", tags=["catalog"])
ProductPrecondition = versioned("product", "product_id")


def product_out(product, who: Principal) -> ProductOut:
    out = ProductOut.model_validate(product)
    return out.model_copy(update={"cost": None}) if who.is_portal else out


@router.post("", response_model=ProductOut, status_code=201, summary="Add a product or service (managers)")
def create(body: ProductIn, session: SessionDep, user: CurrentUser):
    return product_out(commands.create_product(session, user, body.model_dump()), user)


@router.get("", response_model=Page[ProductOut], summary="The catalog: search, filter, sort, page")
def list_(session: SessionDep, user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None,
          active: bool | None = True, visibility: Visibility | None = None,
          sort: sort_by(*queries.PRODUCT_SORTS) = "sku", limit: Limit = 50, offset: Offset = 0):
    f = queries.ProductFilter(q=q, active=active, visibility=visibility, sort=sort, limit=limit, offset=offset)
    rows, total = queries.list_products(session, user, f)
    return Page(items=[product_out(p, user) for p in rows], total=total, limit=limit, offset=offset)


@router.get("/{product_id}", response_model=ProductOut, summary="The product (its ETag in the header)")
def get(product_id: RecordId, session: SessionDep, user: CurrentUser, response: Response):
    return product_out(set_etag(response, "product", queries.readable_product(session, user, product_id)), user)


@router.patch("/{product_id}", response_model=ProductOut, summary="Change the fields sent (send `version` or If-Match)")
def patch(product_id: RecordId, body: ProductPatch, session: SessionDep, user: CurrentUser,
          precondition: ProductPrecondition, response: Response):
    changes = patch_changes(body, PRODUCT_NOT_NULL)
    version = precondition.expected(changes.pop("version", None))
    product = commands.update_product(session, user, product_id, changes, version)
    return product_out(set_etag(response, "product", product), user)


@router.get("/{product_id}/price", response_model=PriceOut,
            summary="The unit price for a customer, quantity and day (price list tier or special condition)")
def price(product_id: RecordId, session: SessionDep, user: CurrentUser,
          customer_id: Annotated[int, Query(ge=1, le=2**31 - 1)], quantity: Annotated[Quantity, Query()] = Decimal("1"),
          on: DayFilter = None):
    day = on or date.today()
    quote, price_list = queries.price_for(session, user, customer_id, product_id, quantity, day)
    return PriceOut(customer_id=customer_id, product_id=product_id, quantity=format(quantity.normalize(), "f"),
                    on=day, price_list=price_list.code, currency=quote.currency, list_price=quote.list_price,
                    unit_price=quote.unit_price, discount_percent=quote.discount_percent, rule=quote.rule)
