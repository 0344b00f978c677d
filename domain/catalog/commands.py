"""Maintaining the catalog: products, price lists and their items, customers' special conditions.
Managers and admins maintain the catalog; special conditions need the customer's editor."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.catalog.models import PriceList, PriceListItem, Product, SpecialCondition
from domain.customers.access import editable_customer
from kernel.errors import Conflict, ExpectedVersion, Forbidden, NotFound, ValidationFailed, require_version
from kernel.principal import Principal

CATALOG_ROLES = ("manager",)


def require_catalog_maintainer(who: Principal) -> None:
    if who.is_portal or not who.has_any(*CATALOG_ROLES):
        raise Forbidden("maintaining the catalog needs the role manager")


def create_product(session: Session, who: Principal, data: dict) -> Product:
    require_catalog_maintainer(who)
    if session.scalar(select(Product.id).where(Product.sku == data["sku"])) is not None:
        raise ValidationFailed("the SKU is taken", [{"field": "sku", "message": f"{data['sku']!r} exists already"}])
    product = Product(**data)
    session.add(product)
    session.flush()
    return product


def update_product(session: Session, who: Principal, product_id: int, changes: dict,
                   expected_version: ExpectedVersion = None) -> Product:
    require_catalog_maintainer(who)
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"product {product_id} not found")
    require_version(f"product {product.sku}", product.version, expected_version)
    if "sku" in changes and changes["sku"] != product.sku and session.scalar(
            select(Product.id).where(Product.sku == changes["sku"])) is not None:
        raise ValidationFailed("the SKU is taken", [{"field": "sku", "message": f"{changes['sku']!r} exists already"}])
    for name, value in changes.items():
        setattr(product, name, value)
    session.flush()
    return product


def create_price_list(session: Session, who: Principal, data: dict) -> PriceList:
    require_catalog_maintainer(who)
    if session.scalar(select(PriceList.id).where(PriceList.code == data["code"])) is not None:
        raise ValidationFailed("the code is taken", [{"field": "code", "message": f"{data['code']!r} exists already"}])
    price_list = PriceList(**data)
    if price_list.is_default:  # one default per currency
        session.execute(update(PriceList).where(PriceList.currency == price_list.currency).values(is_default=False))
    session.add(price_list)
    session.flush()
    return price_list


def add_price_list_item(session: Session, who: Principal, price_list_id: int, product_id: int,
                        tiers: list[tuple[Decimal, Decimal]], valid_from: date | None,
                        valid_to: date | None) -> PriceListItem:
    """A product's price (with quantity tiers) for a period; periods of one product may not overlap."""
    require_catalog_maintainer(who)
    if session.get(PriceList, price_list_id) is None:
        raise NotFound(f"price list {price_list_id} not found")
    if session.get(Product, product_id) is None:
        raise ValidationFailed("unknown product", [{"field": "product_id", "message": f"no product {product_id}"}])
    errors = _tier_errors(tiers)
    if valid_from and valid_to and valid_to < valid_from:
        errors.append({"field": "valid_to", "message": "ends before it starts"})
    if errors:
        raise ValidationFailed("the price is not valid", errors)
    for other in session.scalars(select(PriceListItem).where(PriceListItem.price_list_id == price_list_id,
                                                             PriceListItem.product_id == product_id)):
        if _overlap(valid_from, valid_to, other.valid_from, other.valid_to):
            raise Conflict(f"the price list has a price for this product from {other.valid_from or 'the start'} "
                           f"to {other.valid_to or 'open end'} already", item=other.id)
    item = PriceListItem(price_list_id=price_list_id, product_id=product_id, valid_from=valid_from,
                         valid_to=valid_to, tiers=[{"min_quantity": str(q), "unit_price": str(p)}
                                                   for q, p in sorted(tiers)])
    session.add(item)
    session.flush()
    return item


def add_special_condition(session: Session, who: Principal, customer_id: int, data: dict) -> SpecialCondition:
    customer = editable_customer(session, who, customer_id)
    errors = []
    if data.get("product_id") is not None and session.get(Product, data["product_id"]) is None:
        errors.append({"field": "product_id", "message": f"no product {data['product_id']}"})
    if data["kind"] == "fixed_price" and not data.get("currency"):
        data["currency"] = customer.currency
    if data["kind"] == "discount_percent" and not Decimal(0) < data["value"] <= Decimal(100):
        errors.append({"field": "value", "message": "a discount is more than 0 and at most 100 percent"})
    if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
        errors.append({"field": "valid_to", "message": "ends before it starts"})
    if errors:
        raise ValidationFailed("the special condition is not valid", errors)
    condition = SpecialCondition(customer_id=customer.id, created_by=who.username, **data)
    session.add(condition)
    session.flush()
    return condition


def _tier_errors(tiers: list[tuple[Decimal, Decimal]]) -> list[dict]:
    if not tiers:
        return [{"field": "tiers", "message": "at least one tier"}]
    quantities = [q for q, _ in tiers]
    errors = []
    if len(set(quantities)) != len(quantities):
        errors.append({"field": "tiers", "message": "two tiers start at the same quantity"})
    if min(quantities) > 1:
        errors.append({"field": "tiers", "message": "the first tier must start at a quantity of 1 or less"})
    return errors


def _overlap(a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None) -> bool:
    return (a_from or date.min) <= (b_to or date.max) and (b_from or date.min) <= (a_to or date.max)
