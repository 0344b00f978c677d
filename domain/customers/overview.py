"""A customer's dashboard in one read: master data, addresses, contacts, open opportunities and
their pipeline value, open offers and orders, open activities, the latest traces and what the
customer owes on issued invoices (open items, domain.payments.balances)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer
from domain.customers.models import Address, Contact, Customer
from domain.customers.timeline import Activity, Trace, traces
from domain.offers.models import CLOSED_STATUSES, Offer
from domain.orders.models import Order
from domain.payments.balances import open_items_total
from domain.sales.models import Opportunity, OpportunityPhase
from kernel.clock import utcnow
from kernel.principal import Principal


@dataclass
class Overview:
    customer: Customer
    addresses: list[Address]
    contacts: list[Contact]
    open_opportunities: list[Opportunity]
    open_amount: Decimal
    open_activities: list[Activity]
    last_traces: list[Trace]
    open_offers: list[Offer]
    open_orders: list[Order]
    open_items_total: Decimal


def customer_overview(session: Session, who: Principal, customer_id: int, traces_shown: int = 10) -> Overview:
    customer = readable_customer(session, who, customer_id)
    addresses = list(session.scalars(select(Address).where(Address.customer_id == customer_id)
                                     .order_by(Address.kind, Address.id)))
    contacts = list(session.scalars(select(Contact).where(Contact.customer_id == customer_id,
                                                          Contact.active.is_(True)).order_by(Contact.id)))
    opportunities = [] if who.is_portal else list(session.scalars(
        select(Opportunity).join(OpportunityPhase, OpportunityPhase.id == Opportunity.phase_id)
        .where(Opportunity.customer_id == customer_id, OpportunityPhase.outcome.is_(None))
        .order_by(Opportunity.expected_close, Opportunity.id)))
    activities = [] if who.is_portal else list(session.scalars(
        select(Activity).where(Activity.customer_id == customer_id, Activity.done_at.is_(None))
        .order_by(Activity.due_at, Activity.id)))
    last, _ = traces(session, who, customer_id, limit=traces_shown)
    offers = [] if who.is_portal else list(session.scalars(
        select(Offer).where(Offer.customer_id == customer_id, Offer.status.not_in(CLOSED_STATUSES))
        .order_by(Offer.valid_until, Offer.id)))
    orders = [] if who.is_portal else list(session.scalars(
        select(Order).where(Order.customer_id == customer_id, Order.status == "open").order_by(Order.id)))
    return Overview(customer, addresses, contacts, opportunities, sum((o.amount for o in opportunities), Decimal(0)),
                    activities, last, offers, orders, open_items_total(session, customer_id, utcnow().date()))
