"""Who sees and who changes offers: staff see the offers of customers they may read (portal users
none: their view of offers comes with the portal); the customer's salesperson and managers change them."""
from __future__ import annotations

from sqlalchemy.orm import Session

from domain.customers.access import editable_customer, readable_record
from domain.offers.models import Offer
from kernel.errors import ExpectedVersion, NotFound, require_version
from kernel.principal import Principal


def readable_offer(session: Session, who: Principal, offer_id: int) -> Offer:
    offer = readable_record(session, who, Offer, offer_id, "offer")
    if offer.status == "deleted":  # a deleted draft is gone for everybody
        raise NotFound("offer not found")
    return offer


def editable_offer(session: Session, who: Principal, offer_id: int, expected_version: ExpectedVersion = None) -> Offer:
    offer = readable_offer(session, who, offer_id)
    editable_customer(session, who, offer.customer_id)
    require_version(f"offer {offer.label}", offer.version, expected_version)
    return offer
