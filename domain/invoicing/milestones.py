"""Billing by milestones and by period. A down-payment invoice (Abschlagsrechnung, type 386) bills a
share of the order, split over its tax rates as the order is; the final invoice bills everything
delivered and deducts the issued down payments (EN 16931 BT-113: their gross, each named as a
preceding invoice), each down payment once. A recurring line (a subscription: monthly, quarterly,
yearly) is billed per period that has begun, from the order's date on, each period once."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer
from domain.invoicing.access import require_invoicing
from domain.invoicing.models import Invoice, InvoiceDeduction, InvoiceLine
from domain.invoicing.tax import effective_rate, tax_case
from domain.orders.models import Order, OrderLine, OrderMilestone
from kernel.errors import Conflict, NotFound
from kernel.money import TaxedLine, document_totals, percent_of
from kernel.principal import Principal

MONTHS = {"month": 1, "quarter": 3, "year": 12}
WORDS = {"de": "Abschlag {label} ({percent} %) zu Auftrag {order}", "en": "Down payment {label} ({percent} %) on "
                                                                          "order {order}"}
UNIT = {"de": "Pauschale", "en": "lump sum"}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def due_periods(session: Session, order_ids: list[int], today: date) -> list[tuple[OrderLine, date, date]]:
    """The periods of recurring lines that have begun by `today` and no invoice (draft or issued)
    holds yet: from the day after the last one billed, else from the order's date."""
    if not order_ids:
        return []
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids),
                                                    OrderLine.billing_interval.is_not(None))).all()
    if not lines:
        return []
    last = dict(session.execute(
        select(InvoiceLine.order_line_id, func.max(InvoiceLine.service_to)).join(Invoice)
        .where(InvoiceLine.order_line_id.in_([line.id for line in lines]), Invoice.kind != "credit_note")
        .group_by(InvoiceLine.order_line_id)).all())
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_({li.order_id for li in lines})))}
    due = []
    for line in lines:
        start = last[line.id] + timedelta(days=1) if last.get(line.id) else orders[line.order_id].created_at.date()
        while start <= today:
            end = add_months(start, MONTHS[line.billing_interval]) - timedelta(days=1)
            due.append((line, start, end))
            start = end + timedelta(days=1)
    return due


def draft_down_payment(session: Session, who: Principal, order_id: int, milestone_id: int) -> Invoice:
    """The down-payment invoice of one milestone: its share of each tax rate's net of the order."""
    require_invoicing(who)
    order = session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    customer = readable_customer(session, who, order.customer_id, ("order", order_id))
    milestone = session.get(OrderMilestone, milestone_id)
    if milestone is None or milestone.order_id != order.id:
        raise NotFound(f"milestone {milestone_id} of order {order.number} not found")
    if order.billing_plan != "milestones":
        raise Conflict(f"order {order.number} is not invoiced by milestones")
    if session.scalar(select(exists().where(Invoice.milestone_id == milestone.id))):
        raise Conflict(f"milestone {milestone.label!r} of order {order.number} has its down-payment invoice already")
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    sums = document_totals((TaxedLine(line.net, effective_rate(order.tax_treatment, line.tax_rate),
                                      tax_case(order.tax_treatment, line.goods, line.tax_rate).category)
                            for line in lines), order.header_discount_percent)
    invoice = Invoice(kind="down_payment", customer_id=customer.id, order_id=order.id, milestone_id=milestone.id,
                      contact_id=order.contact_id, billing_address_id=order.billing_address_id,
                      language=order.language, currency=order.currency, tax_treatment=order.tax_treatment,
                      einvoice_format=customer.einvoice_format, buyer_reference=customer.buyer_reference,
                      customer_order_reference=order.customer_order_reference, payment_days=order.payment_days,
                      created_by=who.username)
    session.add(invoice)
    session.flush()
    lang = order.language if order.language in WORDS else "de"
    for position, group in enumerate(sums.tax_groups, start=1):
        amount = percent_of(group.net, milestone.percent)
        session.add(InvoiceLine(invoice_id=invoice.id, position=position, name=WORDS[lang].format(
            label=milestone.label, percent=milestone.percent.normalize(), order=order.number), unit=UNIT[lang],
            quantity=Decimal(1), unit_price=amount, tax_rate=group.rate, tax_category=group.category, net=amount))
    session.flush()
    return invoice


def deduct_down_payments(session: Session, invoice: Invoice, order: Order) -> None:
    """The final invoice deducts every issued down payment of its order no other invoice deducts."""
    taken = select(InvoiceDeduction.down_payment_id)
    for down_payment in session.scalars(select(Invoice).where(Invoice.order_id == order.id,
                                                              Invoice.kind == "down_payment",
                                                              Invoice.status == "issued",
                                                              Invoice.id.not_in(taken))):
        session.add(InvoiceDeduction(invoice_id=invoice.id, down_payment_id=down_payment.id))
    session.flush()

