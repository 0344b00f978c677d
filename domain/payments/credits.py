"""A customer's credit settling an issued invoice. What an over-payment left (`CustomerCredit`, the
rest of a payment no invoice took) stays the customer's until accounting applies it to a later
invoice, as Odoo's "outstanding credits" or ERPNext's advances: the payment that brought the money
then settles that invoice too (an allocation of kind `credit`, dated the company day it was applied,
which is when the DATEV hand-over books it), and its credit shrinks by as much. The oldest credit is
used first; nothing is applied beyond what is open on the invoice or beyond the credit in the
invoice's currency, nor while a SEPA direct debit collects the invoice (the customer would pay twice).

Who: accounting and managers (the payments' rule), checked here where the credit is applied."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer
from domain.customers.timeline import money_param, record_trace
from domain.invoicing.models import Invoice
from domain.payments.balances import PAYABLE_KINDS, invoice_balances
from domain.payments.commands import ZERO, lock_payments, note_balance_changed, require_payments
from domain.payments.mandate_models import DirectDebitItem
from domain.payments.models import CustomerCredit, PaymentAllocation
from kernel import formatting
from kernel.clock import utcnow
from kernel.errors import Conflict, NotFound, ValidationFailed
from kernel.money import to_cents
from kernel.principal import Principal


@dataclass(frozen=True)
class CreditApplied:
    """What applying credit did: per payment whose credit was used, the amount; what stays open on
    the invoice and what credit the customer has left in its currency."""
    invoice_id: int
    number: str
    currency: str
    applied: Decimal
    used: tuple[tuple[int, Decimal], ...]
    open_amount: Decimal
    credit_left: Decimal


def credit_of(session: Session, customer_id: int, currency: str, lock: bool = False) -> list[CustomerCredit]:
    """The customer's credit in this currency, oldest first (locked for the transaction with `lock`)."""
    statement = select(CustomerCredit).where(CustomerCredit.customer_id == customer_id,
                                             CustomerCredit.currency == currency, CustomerCredit.amount > 0) \
        .order_by(CustomerCredit.created_at, CustomerCredit.id)
    return list(session.scalars(statement.with_for_update() if lock else statement))


def _being_collected(session: Session, invoice_id: int) -> bool:
    """A direct debit run collects the invoice, and no returned debit re-opened it since."""
    collected = session.scalar(select(func.count()).select_from(DirectDebitItem)
                               .where(DirectDebitItem.invoice_id == invoice_id))
    returned = session.scalar(select(func.count()).select_from(PaymentAllocation)
                              .where(PaymentAllocation.invoice_id == invoice_id, PaymentAllocation.kind == "return"))
    return bool(collected) and (returned or 0) < collected


def apply_credit(session: Session, who: Principal, invoice_id: int, amount: Decimal | None,
                 today: date) -> CreditApplied:
    """Settle the issued invoice with the customer's credit: `amount`, or (None) as much as the credit
    and the open amount allow. 422 naming `amount` when it is not positive, exceeds what is open or
    exceeds the credit; 409 when the invoice is settled, the customer has no credit or a direct debit
    collects the invoice. A settled invoice is announced as by a payment (its dunning and process end)."""
    require_payments(who)
    lock_payments(session)  # read what is open and allocate against it, one booking at a time
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.status != "issued" or invoice.kind not in PAYABLE_KINDS:
        raise NotFound(f"no issued invoice {invoice_id} to settle")
    readable_customer(session, who, invoice.customer_id)
    [balance] = invoice_balances(session, today=today, invoice_ids=[invoice.id])
    credits = credit_of(session, invoice.customer_id, invoice.currency, lock=True)
    available = to_cents(sum((credit.amount for credit in credits), ZERO))
    open_amount = to_cents(balance.open_amount)
    if open_amount <= 0:
        raise Conflict(f"invoice {invoice.number} is settled: nothing to apply credit to")
    if available <= 0:
        raise Conflict(f"the customer has no credit in {invoice.currency}")
    if _being_collected(session, invoice.id):
        raise Conflict(f"invoice {invoice.number} is being collected by SEPA direct debit: apply credit only "
                       "if the collection comes back")
    wanted = min(open_amount, available) if amount is None else amount
    problem = None
    if wanted <= 0 or wanted != to_cents(wanted):
        problem = "must be a positive amount in cents"
    elif wanted > open_amount:
        problem = f"at most what is open on {invoice.number}: {open_amount} {invoice.currency}"
    elif wanted > available:
        problem = f"at most the customer's credit: {available} {invoice.currency}"
    if problem:
        raise ValidationFailed("the credit cannot be applied so", [{"field": "amount", "message": problem}])
    used, left, now = [], wanted, utcnow()
    for credit in credits:
        take = min(credit.amount, left)
        if take <= 0:
            break
        credit.amount -= take
        left -= take
        used.append((credit.payment_id, to_cents(take)))
        session.add(PaymentAllocation(payment_id=credit.payment_id, invoice_id=invoice.id, kind="credit",
                                      amount=take, credit_note_id=None, shares=[], applied_on=today,
                                      created_at=now))
    session.flush()
    note_balance_changed(session, {invoice.id})
    record_trace(session, invoice.customer_id, "credit_applied", who.username,
                 f"credit of {formatting.money(wanted, invoice.currency, 'en')} applied to {invoice.number}",
                 "invoice", invoice.id, params={"invoice": invoice.number,
                                                "amount": money_param(wanted, invoice.currency)})
    return CreditApplied(invoice.id, invoice.number, invoice.currency, wanted, tuple(used),
                         open_amount - wanted, available - wanted)
