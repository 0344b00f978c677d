"""Draft invoices from what orders delivered and no invoice holds yet.

A delivery line is invoiceable for its quantity less what invoices (drafts included) already hold of
it, plus what issued credit notes that reopen delivery gave back. One draft per order — or, for a
customer who takes collective invoices (Sammelrechnung), one for all its orders that share currency,
tax treatment, language, payment terms and header discount. Drafts may be edited and deleted; their
lines keep the order's prices (a price changed by hand is marked, for the approval before issue)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer
from domain.customers.models import Customer
from domain.invoicing.access import require_invoicing
from domain.invoicing.milestones import deduct_down_payments, due_periods
from domain.invoicing.models import Invoice, InvoiceLine
from domain.invoicing.tax import effective_rate, tax_case
from domain.orders.models import DeliveryLine, Order, OrderLine
from kernel.db import ExactDecimal  # sums of quantities: exact on both databases
from kernel.errors import Conflict, NotFound
from kernel.money import line_net
from kernel.principal import Principal

ZERO = Decimal(0)
OPEN_ORDER_STATES = ("confirmed", "partly_delivered", "delivered", "partly_invoiced", "invoiced")


def billed_per_delivery_line(session: Session, delivery_line_ids: list[int]) -> dict[int, Decimal]:
    """How much of each delivery line invoices hold (less what reopening credit notes gave back)."""
    if not delivery_line_ids:
        return {}
    credited = (Invoice.kind == "credit_note")
    amount = case((credited & Invoice.reopens_delivery & (Invoice.status == "issued"), -InvoiceLine.quantity),
                  (credited, ZERO), else_=InvoiceLine.quantity)
    rows = session.execute(select(InvoiceLine.delivery_line_id, func.sum(amount, type_=ExactDecimal()))
                           .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                           .where(InvoiceLine.delivery_line_id.in_(delivery_line_ids))
                           .group_by(InvoiceLine.delivery_line_id)).all()
    return {line_id: Decimal(total or 0) for line_id, total in rows}


def invoiceable(session: Session, order_ids: list[int]) -> list[tuple[DeliveryLine, OrderLine, Decimal]]:
    """Delivery lines of these orders with the quantity still to invoice, in order of delivery."""
    rows = session.execute(select(DeliveryLine, OrderLine).join(OrderLine, OrderLine.id == DeliveryLine.order_line_id)
                           .where(OrderLine.order_id.in_(order_ids))
                           .order_by(OrderLine.order_id, DeliveryLine.id)).all()
    billed = billed_per_delivery_line(session, [d.id for d, _ in rows])
    found = []
    for delivery_line, order_line in rows:
        left = delivery_line.quantity - billed.get(delivery_line.id, ZERO)
        if left > ZERO:
            found.append((delivery_line, order_line, left))
    return found


def _group_key(order: Order, collective: bool) -> tuple:
    terms = (order.currency, order.tax_treatment, order.language, order.payment_days, order.skonto_percent,
             order.skonto_days, order.header_discount_percent)
    # a final invoice deducts its own order's down payments: such an order is never collected with others
    return terms if collective and order.billing_plan != "milestones" else (order.id, *terms)


def draft_invoices(session: Session, who: Principal, today: date, *, customer_id: int | None = None,
                   order_id: int | None = None) -> list[Invoice]:
    """Drafts for everything delivered and not yet invoiced (and the recurring lines' periods begun by
    `today`), of one order or of all a customer's orders; Conflict when there is nothing to invoice.
    An order invoiced once complete (or by milestones: its final invoice) waits until all is delivered;
    a final invoice deducts the order's issued down payments."""
    require_invoicing(who)
    if order_id is not None:
        order = session.get(Order, order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        readable_customer(session, who, order.customer_id, ("order", order_id))
        orders = [order]
        customer = session.get(Customer, order.customer_id)
    else:
        customer = readable_customer(session, who, customer_id)
        orders = list(session.scalars(select(Order).where(Order.customer_id == customer.id,
                                                          Order.status.in_(OPEN_ORDER_STATES)).order_by(Order.id)))
    by_order, waiting = pending(session, orders, today)
    if not by_order:
        why = "; ".join(waiting) or "nothing delivered is left to invoice"
        raise Conflict(why + (f" on order {orders[0].number}" if order_id and not waiting else ""))
    groups: dict[tuple, list[Order]] = defaultdict(list)
    for order in orders:
        if order.id in by_order:
            groups[_group_key(order, customer.collective_invoice)].append(order)
    made = [_draft(session, who, customer, members, by_order) for members in groups.values()]
    plans_by_id = {order.id: order for order in orders}
    for invoice in made:
        order = plans_by_id.get(invoice.order_id)
        if order is not None and order.billing_plan == "milestones":
            deduct_down_payments(session, invoice, order)
    return made


def pending(session: Session, orders: list[Order], today: date) -> tuple[dict[int, list], list[str]]:
    """Per order, (delivery line or None, order line, quantity, period start, period end) still to
    invoice; and why an order with something delivered still waits (its plan invoices it complete)."""
    by_order: dict[int, list] = defaultdict(list)
    waiting = []
    delivered = invoiceable(session, [o.id for o in orders])
    plans = {o.id: o for o in orders}
    for delivery_line, order_line, left in delivered:
        by_order[order_line.order_id].append((delivery_line, order_line, left, delivery_line.service_from,
                                              delivery_line.service_to))
    for order in orders:
        if order.billing_plan in ("on_completion", "milestones") and order.id in by_order:
            lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id,
                                                            OrderLine.billing_interval.is_(None))).all()
            if any(line.delivered_quantity < line.quantity for line in lines):
                del by_order[order.id]
                how = "its final invoice after the down payments" if order.billing_plan == "milestones" \
                    else "one invoice"
                waiting.append(f"order {order.number} is invoiced once everything is delivered ({how})")
    for order_line, start, end in due_periods(session, [o.id for o in orders], today):
        by_order[order_line.order_id].append((None, order_line, order_line.quantity, start, end))
    return {k: v for k, v in by_order.items() if k in plans}, waiting


def _draft(session: Session, who: Principal, customer: Customer, orders: list[Order], by_order: dict) -> Invoice:
    first = orders[0]
    invoice = Invoice(kind="invoice", customer_id=customer.id, order_id=first.id if len(orders) == 1 else None,
                      contact_id=first.contact_id, billing_address_id=first.billing_address_id,
                      language=first.language, currency=first.currency, tax_treatment=first.tax_treatment,
                      einvoice_format=customer.einvoice_format, buyer_reference=customer.buyer_reference,
                      customer_order_reference=first.customer_order_reference if len(orders) == 1 else None,
                      payment_days=first.payment_days, skonto_percent=first.skonto_percent,
                      skonto_days=first.skonto_days, header_discount_percent=first.header_discount_percent,
                      created_by=who.username)
    session.add(invoice)
    session.flush()
    position = 0
    for order in orders:
        for delivery_line, order_line, quantity, start, end in by_order[order.id]:
            position += 1
            session.add(line_from_order(invoice, position, order_line, quantity, delivery_line, start, end))
    session.flush()
    return invoice


def line_from_order(invoice: Invoice, position: int, order_line: OrderLine, quantity: Decimal,
                    delivery_line: DeliveryLine | None = None, start: date | None = None,
                    end: date | None = None) -> InvoiceLine:
    rate = effective_rate(invoice.tax_treatment, order_line.tax_rate)
    return InvoiceLine(invoice_id=invoice.id, position=position, order_line_id=order_line.id,
                       delivery_line_id=delivery_line.id if delivery_line else None, product_id=order_line.product_id,
                       sku=order_line.sku, name=order_line.name, description=order_line.description,
                       unit=order_line.unit, quantity=quantity, unit_price=order_line.unit_price,
                       discount_percent=order_line.discount_percent, tax_rate=rate,
                       tax_category=tax_case(invoice.tax_treatment, order_line.goods, rate).category,
                       goods=order_line.goods, net=line_net(quantity, order_line.unit_price,
                                                            order_line.discount_percent),
                       service_from=start, service_to=end)
