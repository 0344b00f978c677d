"""Orders from accepted offers: one order per offer (a retried acceptance finds the first one)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.catalog.models import Product
from domain.customers.commands import activate_for_business
from domain.customers.timeline import money_param, record_trace
from domain.numbering import next_number
from domain.offers.content import lines_of
from domain.offers.models import Offer
from domain.orders.models import ORDER_LIFECYCLE, ORDER_NUMBERS, Order, OrderLine
from kernel import formatting

COPIED = ("customer_id", "opportunity_id", "title", "contact_id", "site_id", "billing_address_id",
          "delivery_address_id", "language", "currency", "payment_days", "skonto_percent", "skonto_days",
          "delivery_terms", "tax_treatment", "header_discount_percent", "net_total", "tax_total", "gross_total")
LINE_COPIED = ("position", "product_id", "sku", "name", "description", "unit", "quantity", "unit_price",
               "discount_percent", "tax_rate", "net")


def order_of_offer(session: Session, offer_id: int) -> Order | None:
    return session.scalar(select(Order).where(Order.offer_id == offer_id))


def create_order_from_offer(session: Session, offer: Offer, year: int, accepted_via: str, actor: str) -> Order:
    """The order carrying the offer's lines and terms as agreed. Call with the offer row locked."""
    existing = order_of_offer(session, offer.id)
    if existing is not None:
        return existing
    order = Order(number=next_number(session, ORDER_NUMBERS, year), offer_id=offer.id,
                  status=ORDER_LIFECYCLE.initial, accepted_via=accepted_via, created_by=actor,
                  **{name: getattr(offer, name) for name in COPIED})
    session.add(order)
    session.flush()
    lines = lines_of(session, offer.id)
    wanted = {line.product_id for line in lines}
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}
    for line in lines:
        product = products[line.product_id]
        session.add(OrderLine(order_id=order.id, goods=product.kind == "goods",
                              billing_interval=product.billing_interval,
                              **{name: getattr(line, name) for name in LINE_COPIED}))
    session.flush()
    record_trace(session, offer.customer_id, "order_created", actor,
                 f"order {order.number} from offer {offer.label} "
                 f"({formatting.money(offer.gross_total, offer.currency, 'en')})", "order", order.id,
                 offer_id=offer.id, params={"order": order.number, "offer": offer.label,
                                            "total": money_param(offer.gross_total, offer.currency)})
    activate_for_business(session, offer.customer_id, actor, f"order {order.number}",
                          {"variant": "order", "order": order.number})
    return order
