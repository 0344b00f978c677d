"""What the payments of a period hand to the tax advisor (domain.accounting's PaymentSource): each
allocation booked in the period as DATEV books it — money received for an invoice, a returned
direct debit taking it back, Skonto granted with its gross per tax rate (§17 UStG). Money for a
down-payment invoice is also a taxed down payment received, per tax rate (domain.accounting.charts)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounting.bookings import customer_number, down_payment_shares
from domain.accounting.datev import PaymentBooking, SkontoBooking
from domain.customers.models import Customer
from domain.invoicing.models import Invoice
from domain.payments.models import Payment, PaymentAllocation


def bookings_in(session: Session, date_from: date, date_to: date) -> Iterable[PaymentBooking | SkontoBooking]:
    rows = session.execute(
        select(PaymentAllocation, Payment, Invoice, Customer.number)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Payment.booking_date.between(date_from, date_to), PaymentAllocation.kind.in_(("payment", "skonto",
                                                                                             "return")))
        .order_by(Payment.booking_date, PaymentAllocation.id)).all()
    for allocation, payment, invoice, customer in rows:
        debtor, number = customer_number(customer), invoice.number
        if allocation.kind == "skonto":
            yield SkontoBooking(number, payment.booking_date, debtor, tuple(
                (Decimal(share["rate"]), Decimal(share["gross"])) for share in allocation.shares))
        else:
            yield PaymentBooking(number, payment.booking_date, debtor, allocation.amount,
                                 text=(payment.reference or "")[:60], returned=allocation.kind == "return",
                                 down_payment=down_payment_shares(invoice, allocation.amount)
                                 if invoice.kind == "down_payment" else ())
