"""Reading payments, bank statements and open items.

Payments and statements are the company's books: staff read them, portal users learn nothing of
them (404). Open items are also the customer's own business: a portal user reads those of their
own customer (their issued invoices, what is open and due on each), never another's."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer, require_staff_reader
from domain.payments.balances import InvoiceBalance, invoice_balances
from domain.payments.models import BankStatementImport, BankStatementLine, CustomerCredit, Payment, PaymentAllocation
from kernel.errors import Forbidden, NotFound
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal

PAYMENT_SORTS = {"id": Payment.id, "booking_date": Payment.booking_date, "amount": Payment.amount,
                 "created_at": Payment.created_at}
STATEMENT_SORTS = {"id": BankStatementImport.id, "uploaded_at": BankStatementImport.uploaded_at,
                   "to_date": BankStatementImport.to_date}
ZERO = Decimal("0.00")


@dataclass
class PaymentView:
    payment: Payment
    allocations: list[PaymentAllocation]
    credit: Decimal


def list_payments(session: Session, who: Principal, page: PageRequest, customer_id: int | None = None,
                  statement_line_id: int | None = None) -> tuple[list[PaymentView], int]:
    require_staff_reader(who, "payments")
    statement = select(Payment)
    if customer_id is not None:
        statement = statement.where(Payment.customer_id == customer_id)
    if statement_line_id is not None:
        statement = statement.where(Payment.statement_line_id == statement_line_id)
    payments, total = page_of(session, statement, page, PAYMENT_SORTS, Payment.id)
    return views_of(session, payments), total


def views_of(session: Session, payments: list[Payment]) -> list[PaymentView]:
    """The payments with their allocations and credit (two queries for the lot)."""
    ids = [p.id for p in payments]
    allocations: dict[int, list[PaymentAllocation]] = defaultdict(list)
    credits: dict[int, Decimal] = {}
    if ids:
        for allocation in session.scalars(select(PaymentAllocation).where(PaymentAllocation.payment_id.in_(ids))
                                          .order_by(PaymentAllocation.id)):
            allocations[allocation.payment_id].append(allocation)
        credits = dict(session.execute(select(CustomerCredit.payment_id, CustomerCredit.amount)
                                       .where(CustomerCredit.payment_id.in_(ids))).all())
    return [PaymentView(p, allocations.get(p.id, []), credits.get(p.id, ZERO)) for p in payments]


def list_statements(session: Session, who: Principal, page: PageRequest,
                    state: str | None = None) -> tuple[list[BankStatementImport], int]:
    require_staff_reader(who, "bank statements")
    statement = select(BankStatementImport)
    if state is not None:
        statement = statement.where(BankStatementImport.state == state)
    return page_of(session, statement, page, STATEMENT_SORTS, BankStatementImport.id)


def statement_with_lines(session: Session, who: Principal,
                         statement_id: int) -> tuple[BankStatementImport, list[BankStatementLine]]:
    require_staff_reader(who, "bank statements")
    row = session.get(BankStatementImport, statement_id)
    if row is None:
        raise NotFound(f"bank statement {statement_id} not found")
    lines = list(session.scalars(select(BankStatementLine).where(BankStatementLine.statement_id == statement_id)
                                 .order_by(BankStatementLine.position, BankStatementLine.id)))
    return row, lines


@dataclass
class CustomerOpenItems:
    customer_id: int
    currency: str
    open_total: Decimal = ZERO
    due_total: Decimal = ZERO
    overdue_total: Decimal = ZERO
    credit: Decimal = ZERO
    items: list[InvoiceBalance] = field(default_factory=list)


def open_items(session: Session, who: Principal, today: date, customer_id: int | None = None,
               overdue: bool | None = None) -> list[CustomerOpenItems]:
    """The open invoices per customer (and currency) with their sums: open, due, overdue, and the
    customer's credit from over-payments. A portal user gets their own customer's only."""
    if who.is_portal:
        if customer_id is not None and customer_id != who.customer_id:
            raise NotFound(f"customer {customer_id} not found")
        customer_id = who.customer_id
    elif not who.is_staff:
        raise Forbidden("open items are for staff and the customer's portal users")
    if customer_id is not None:
        readable_customer(session, who, customer_id)
    balances = invoice_balances(session, today=today, customer_id=customer_id, only_open=True, overdue=overdue)
    grouped: dict[tuple[int, str], CustomerOpenItems] = {}
    for balance in balances:
        group = grouped.setdefault((balance.customer_id, balance.currency),
                                   CustomerOpenItems(balance.customer_id, balance.currency))
        group.items.append(balance)
        group.open_total += balance.open_amount
        group.due_total += balance.open_amount if balance.is_due else ZERO
        group.overdue_total += balance.open_amount if balance.is_overdue else ZERO
    credits = select(CustomerCredit.customer_id, CustomerCredit.currency, CustomerCredit.amount)
    if customer_id is not None:
        credits = credits.where(CustomerCredit.customer_id == customer_id)
    for credit_customer, currency, amount in session.execute(credits):
        if (credit_customer, currency) in grouped:
            grouped[(credit_customer, currency)].credit += amount
        elif overdue is None:  # a customer with credit and nothing open is listed with it
            grouped[(credit_customer, currency)] = CustomerOpenItems(credit_customer, currency, credit=amount)
    return sorted(grouped.values(), key=lambda g: (g.customer_id, g.currency))


def currency_totals(groups: list[CustomerOpenItems]) -> list[CustomerOpenItems]:
    """The sums over the customers listed, one per currency (customer_id 0, no items)."""
    totals: dict[str, CustomerOpenItems] = {}
    for g in groups:
        total = totals.setdefault(g.currency, CustomerOpenItems(0, g.currency))
        total.open_total += g.open_total
        total.due_total += g.due_total
        total.overdue_total += g.overdue_total
        total.credit += g.credit
    return [totals[currency] for currency in sorted(totals)]
