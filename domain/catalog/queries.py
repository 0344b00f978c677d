"""Reading the catalog, and the price lookup price(customer, product, qty, date)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from domain import pricing
from domain.catalog.models import PriceList, PriceListItem, Product, SpecialCondition
from domain.customers.access import readable_customer, require_staff
from kernel.errors import Forbidden, NotFound, ValidationFailed
from kernel.listing import PageRequest, like_pattern, page_of, sorted_page
from kernel.principal import STAFF_ROLES, Principal

PRODUCT_SORTS = {"sku": Product.sku, "name": Product.name_de, "created_at": Product.created_at}


@dataclass
class ProductFilter:
    q: str | None = None  # SKU or name (German or English)
    active: bool | None = True
    visibility: str | None = None
    sort: str = "sku"
    limit: int = 50
    offset: int = 0


def visible_visibilities(who: Principal) -> tuple[str, ...]:
    if who.has_any(*STAFF_ROLES):
        return ("public", "prices_after_login", "internal")
    if who.is_portal:
        return ("public", "prices_after_login")
    raise Forbidden("reading the catalog needs a staff role or a portal account")


def list_products(session: Session, who: Principal, f: ProductFilter) -> tuple[list[Product], int]:
    statement = select(Product).where(Product.visibility.in_(visible_visibilities(who)))
    if f.active is not None:
        statement = statement.where(Product.active.is_(f.active))
    if f.visibility:
        statement = statement.where(Product.visibility == f.visibility)
    if f.q:
        pattern = like_pattern(f.q.strip())
        statement = statement.where(or_(func.lower(Product.sku).like(pattern, escape="\\"),
                                        func.lower(Product.name_de).like(pattern, escape="\\"),
                                        func.lower(func.coalesce(Product.name_en, "")).like(pattern, escape="\\")))
    return sorted_page(session, statement, f.sort, PRODUCT_SORTS, Product.id, f.limit, f.offset)


def readable_product(session: Session, who: Principal, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.visibility not in visible_visibilities(who):
        raise NotFound(f"product {product_id} not found")
    return product


def customer_price_list(session: Session, customer) -> PriceList:
    """The customer's own price list, else the default price list of the customer's currency."""
    if customer.price_list_id is not None:
        price_list = session.get(PriceList, customer.price_list_id)
        if price_list is not None:
            return price_list
    price_list = session.scalar(select(PriceList).where(PriceList.currency == customer.currency,
                                                        PriceList.is_default.is_(True)))
    if price_list is None:
        raise ValidationFailed(f"customer {customer.number} has no price list and there is no default price list "
                               f"in {customer.currency}", [{"field": "customer_id", "message": "no price list"}])
    return price_list


def price_for(session: Session, who: Principal, customer_id: int, product_id: int, quantity: Decimal,
              on: date) -> tuple[pricing.Quote, PriceList]:
    """The unit price for this customer: its price list's tier, or its special condition where lower."""
    customer = readable_customer(session, who, customer_id)
    readable_product(session, who, product_id)
    price_list = customer_price_list(session, customer)
    entries = [pricing.PriceListEntry(item.product_id, price_list.currency,
                                      tuple(pricing.PriceTier(Decimal(t["min_quantity"]), Decimal(t["unit_price"]))
                                            for t in item.tiers), item.valid_from, item.valid_to)
               for item in session.scalars(select(PriceListItem).where(PriceListItem.price_list_id == price_list.id,
                                                                       PriceListItem.product_id == product_id))]
    conditions = [pricing.SpecialCondition(c.product_id, c.customer_id, c.kind, c.value, c.currency,
                                           c.min_quantity, c.valid_from, c.valid_to)
                  for c in session.scalars(select(SpecialCondition).where(
                      SpecialCondition.customer_id == customer.id,
                      or_(SpecialCondition.product_id == product_id, SpecialCondition.product_id.is_(None))))]
    try:
        return pricing.price(customer.id, product_id, quantity, on, price_list.currency, entries, conditions), \
            price_list
    except pricing.PricingError as exc:
        raise ValidationFailed(str(exc), [{"field": "product_id", "message": str(exc)}]) from exc


CONDITION_SORTS = {"id": SpecialCondition.id, "product_id": SpecialCondition.product_id,
                   "valid_from": SpecialCondition.valid_from, "kind": SpecialCondition.kind}
PRICE_LIST_SORTS = {"id": PriceList.id, "code": PriceList.code, "name": PriceList.name,
                    "currency": PriceList.currency}
ITEM_SORTS = {"id": PriceListItem.id, "product_id": PriceListItem.product_id,
              "valid_from": PriceListItem.valid_from}


def special_conditions(session: Session, who: Principal, customer_id: int, page: PageRequest,
                       product_id: int | None = None) -> tuple[list[SpecialCondition], int]:
    readable_customer(session, who, customer_id)
    statement = select(SpecialCondition).where(SpecialCondition.customer_id == customer_id)
    if product_id is not None:
        statement = statement.where(SpecialCondition.product_id == product_id)
    return page_of(session, statement, page, CONDITION_SORTS, SpecialCondition.id)


def price_lists(session: Session, who: Principal, page: PageRequest,
                currency: str | None = None) -> tuple[list[PriceList], int]:
    require_staff(who, "price lists")
    statement = select(PriceList)
    if currency:
        statement = statement.where(PriceList.currency == currency.upper())
    return page_of(session, statement, page, PRICE_LIST_SORTS, PriceList.id)


def readable_price_list(session: Session, who: Principal, price_list_id: int) -> PriceList:
    require_staff(who, "price lists")
    price_list = session.get(PriceList, price_list_id)
    if price_list is None:
        raise NotFound(f"price list {price_list_id} not found")
    return price_list


def price_list_items(session: Session, who: Principal, price_list_id: int, page: PageRequest,
                     product_id: int | None = None) -> tuple[list[PriceListItem], int]:
    readable_price_list(session, who, price_list_id)
    statement = select(PriceListItem).where(PriceListItem.price_list_id == price_list_id)
    if product_id is not None:
        statement = statement.where(PriceListItem.product_id == product_id)
    return page_of(session, statement, page, ITEM_SORTS, PriceListItem.id)
