"""Who sees and who changes offers: staff see the offers of customers they may read (portal users
none: their view of offers comes with the portal); the customer's salesperson and managers change them."""
from __future__ import annotations

from sqlalchemy.orm import Session

from domain.customers.access import editable_customer, readable_record
from domain.offers.models import Offer
from kernel.errors import Conflict
from kernel.principal import Principal


def readable_offer(session: Session, who: Principal, offer_id: int) -> Offer:
    return readable_record(session, who, Offer, offer_id, "offer")


def editable_offer(session: Session, who: Principal, offer_id: int, expected_version: int | None = None) -> Offer:
    offer = readable_offer(session, who, offer_id)
    editable_customer(session, who, offer.customer_id)
    if expected_version is not None and expected_version != offer.version:
        raise Conflict(f"the offer was changed meanwhile (version {offer.version})", version=offer.version)
    return offer
