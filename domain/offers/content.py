"""An offer's content: lines priced from the catalog, totals kept current, the content hash that an
approval is bound to, and the difference between two revisions."""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.catalog.models import Product
from domain.catalog.queries import price_for
from domain.offers.models import Offer, OfferLine
from domain.offers.totals import LineFigures, OfferTotals, offer_totals
from kernel.errors import ValidationFailed
from kernel.principal import Principal

# What the customer sees and an approval covers: a change of any of these voids the approval.
HEADER_FIELDS = ("title", "contact_id", "site_id", "billing_address_id", "delivery_address_id", "currency",
                 "payment_days", "skonto_percent", "skonto_days", "delivery_terms", "tax_treatment",
                 "header_discount_percent", "valid_until", "intro_text", "closing_text", "language")
LINE_FIELDS = ("product_id", "sku", "name", "description", "unit", "quantity", "unit_price", "discount_percent",
               "tax_rate")


def lines_of(session: Session, offer_id: int) -> list[OfferLine]:
    return list(session.scalars(select(OfferLine).where(OfferLine.offer_id == offer_id)
                                .order_by(OfferLine.position)))


def price_lines(session: Session, who: Principal, offer: Offer, inputs: list[dict], on: date) -> list[OfferLine]:
    """New lines for the offer, each priced by the price lookup for its customer, quantity and day."""
    lines, errors = [], []
    for position, item in enumerate(inputs, start=1):
        product = session.get(Product, item["product_id"])
        if product is None or not product.active:
            errors.append({"field": f"lines.{position - 1}.product_id", "message": f"no active product "
                                                                                  f"{item['product_id']}"})
            continue
        try:
            quote, _ = price_for(session, who, offer.customer_id, product.id, Decimal(item["quantity"]), on)
        except ValidationFailed as exc:
            errors.append({"field": f"lines.{position - 1}.product_id", "message": exc.args[0]})
            continue
        if quote.currency != offer.currency:
            errors.append({"field": f"lines.{position - 1}.product_id",
                           "message": f"priced in {quote.currency}, the offer is in {offer.currency}"})
            continue
        english = offer.language == "en"
        lines.append(OfferLine(
            position=position, product_id=product.id, sku=product.sku,
            name=(product.name_en if english and product.name_en else product.name_de),
            description=item.get("description") or (product.description_en if english and product.description_en
                                                    else product.description_de),
            unit=product.unit, quantity=Decimal(item["quantity"]), list_price=quote.list_price,
            unit_price=quote.unit_price, price_rule=quote.rule[:200],
            discount_percent=Decimal(item.get("discount_percent") or 0),
            tax_rate=product.tax_rate if offer.tax_treatment == "domestic" else Decimal("0"),
            unit_cost=product.cost, net=Decimal("0")))
    if errors:
        raise ValidationFailed("some lines cannot be priced", errors)
    return lines


def figures(line: OfferLine) -> LineFigures:
    return LineFigures(line.quantity, line.unit_price, line.discount_percent, line.tax_rate, line.unit_cost,
                       line.list_price)


def totals_of(offer: Offer, lines: list[OfferLine]) -> OfferTotals:
    return offer_totals([figures(line) for line in lines], offer.header_discount_percent)


def refresh(offer: Offer, lines: list[OfferLine]) -> OfferTotals:
    """Line nets, offer totals and the content hash, after any change."""
    totals = totals_of(offer, lines)
    for line in lines:
        line.net = offer_totals([figures(line)], Decimal(0)).lines_net
    offer.net_total, offer.tax_total, offer.gross_total = totals.net_total, totals.tax_total, totals.gross_total
    offer.content_hash = content_hash(offer, lines)
    return totals


def _plain(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def content_of(offer: Offer, lines: list[OfferLine]) -> dict:
    return {"header": {name: _plain(getattr(offer, name)) for name in HEADER_FIELDS},
            "lines": [{name: _plain(getattr(line, name)) for name in LINE_FIELDS} for line in lines]}


def content_hash(offer: Offer, lines: list[OfferLine]) -> str:
    """SHA-256 over everything the customer sees: lines, prices, discounts, terms, validity, texts."""
    text = json.dumps(content_of(offer, lines), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def diff(before: dict, after: dict) -> dict:
    """What changed between two contents (`content_of`): header fields, and lines by product."""
    header = {name: {"before": before["header"].get(name), "after": value}
              for name, value in after["header"].items() if before["header"].get(name) != value}
    old = {line["product_id"]: line for line in before["lines"]}
    new = {line["product_id"]: line for line in after["lines"]}
    changed = []
    for product_id in sorted(set(old) & set(new)):
        fields = {name: {"before": old[product_id][name], "after": new[product_id][name]}
                  for name in LINE_FIELDS if old[product_id][name] != new[product_id][name]}
        if fields:
            changed.append({"product_id": product_id, "sku": new[product_id]["sku"], "changes": fields})
    return {"header": header,
            "lines_added": [new[p] for p in sorted(set(new) - set(old))],
            "lines_removed": [old[p] for p in sorted(set(old) - set(new))],
            "lines_changed": changed}
