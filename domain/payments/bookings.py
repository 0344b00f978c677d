"""What the payments of a period hand to the tax advisor (domain.accounting's PaymentSource): each
allocation booked in the period as DATEV books it — money received for an invoice, a returned
direct debit taking it back, Skonto granted with its gross per tax rate (§17 UStG). Money for a
down-payment invoice is also a taxed down payment received, per tax rate (domain.accounting.charts).
The rest of a payment no invoice took (the customer's credit) is money received too: booked to the
customer's account without an invoice number, at the amount received, so the bank's total is whole
and a re-export of the period gives the same rows; credit applied to an invoice later is booked on
the day it was applied (domain.accounting.charts: through the transit account)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.accounting.bookings import customer_number, down_payment_shares
from domain.accounting.datev import CreditUseBooking, MoneyBooking, PaymentBooking, SkontoBooking
from domain.customers.models import Customer
from domain.invoicing.models import Invoice
from domain.payments.models import CustomerCredit, Payment, PaymentAllocation


def bookings_in(session: Session, date_from: date, date_to: date) -> Iterable[MoneyBooking]:
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

    # the over-payment as received: what is left of the credit and what was applied since
    used = select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
        PaymentAllocation.payment_id == CustomerCredit.payment_id, PaymentAllocation.kind == "credit") \
        .scalar_subquery()
    credits = session.execute(
        select(CustomerCredit.amount, used, Payment, Customer.number)
        .join(Payment, Payment.id == CustomerCredit.payment_id)
        .join(Customer, Customer.id == CustomerCredit.customer_id)
        .where(Payment.booking_date.between(date_from, date_to))
        .order_by(Payment.booking_date, Payment.id)).all()
    for left, applied, payment, customer in credits:
        received = Decimal(left) + Decimal(applied)
        if received > 0:
            yield PaymentBooking("", payment.booking_date, customer_number(customer), received,
                                 text=f"Überzahlung {payment.reference or ''}".strip()[:60])
    # credit applied to an invoice, on the day it was applied
    uses = session.execute(
        select(PaymentAllocation, Payment, Invoice, Customer.number)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(PaymentAllocation.kind == "credit", PaymentAllocation.applied_on.between(date_from, date_to))
        .order_by(PaymentAllocation.applied_on, PaymentAllocation.id)).all()
    for allocation, payment, invoice, customer in uses:
        yield CreditUseBooking(invoice.number, allocation.applied_on, customer_number(customer), allocation.amount,
                               payment_text=(payment.reference or "")[:40],
                               down_payment=down_payment_shares(invoice, allocation.amount)
                               if invoice.kind == "down_payment" else ())
