"""What is open on each issued invoice, read from the records in a fixed number of queries.

open = amount_due (gross less the down payments a final invoice deducts)
       − payments (with the customer's credit applied later) − Skonto − credit notes' credit used
         (allocations of the kinds that settle)
       − issued credit notes that correct the invoice
       + returned direct debits (allocations of kind `return` re-open what the collection paid).
A negative figure is what the customer has paid or been credited beyond the invoice.

Due: the due date has come (today or earlier) and something is open; overdue: the due date has
passed, by `days_overdue` days. The open items are also what the payment matching works against
(`matchable_items`): OpenItem with the gross per tax rate, the Skonto terms and the accounts the
customer paid from before."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from domain.invoicing.models import Invoice
from domain.payments.models import BankStatementLine, PaymentAllocation
from domain.payments.open_items import OpenItem, TaxPortion
from kernel.money import to_cents

ZERO = Decimal("0.00")
PAYABLE_KINDS = ("invoice", "down_payment")


@dataclass(frozen=True)
class InvoiceBalance:
    """One issued invoice (or down-payment invoice) and what is open on it on `today`."""
    invoice_id: int
    number: str
    customer_id: int
    currency: str
    issue_date: date
    due_date: date
    amount_due: Decimal
    paid: Decimal  # money allocated to it (returns deducted)
    skonto: Decimal
    credited: Decimal  # issued credit notes correcting it, and credit used on it
    open_amount: Decimal
    days_overdue: int

    @property
    def is_due(self) -> bool:
        return self.open_amount > 0 and self.days_overdue >= 0

    @property
    def is_overdue(self) -> bool:
        return self.open_amount > 0 and self.days_overdue > 0


def invoice_balances(session: Session, *, today: date, customer_id: int | None = None,
                     invoice_ids: Iterable[int] | None = None, only_open: bool = False,
                     overdue: bool | None = None) -> list[InvoiceBalance]:
    """The balances of the issued invoices of one customer, of the given invoices, or of all (three
    queries, whatever their number). `only_open` leaves out the settled ones; `overdue` True/False
    keeps only the overdue / not overdue ones."""
    statement = _issued_invoices()
    if customer_id is not None:
        statement = statement.where(Invoice.customer_id == customer_id)
    if invoice_ids is not None:
        statement = statement.where(Invoice.id.in_(list(invoice_ids)))
    return [balance for balance, _ in _balances(session, statement, today, only_open, overdue)]


def _balances(session: Session, statement: Select[tuple[Invoice]], today: date, only_open: bool = False,
              overdue: bool | None = None) -> list[tuple[InvoiceBalance, Invoice]]:
    """The balances of the invoices `statement` selects, each with its invoice: three queries."""
    invoices = list(session.scalars(statement.order_by(Invoice.due_date, Invoice.id)))
    if not invoices:
        return []
    chosen = statement.with_only_columns(Invoice.id).scalar_subquery()
    settled: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for invoice_id, kind, total in session.execute(
            select(PaymentAllocation.invoice_id, PaymentAllocation.kind, func.sum(PaymentAllocation.amount))
            .where(PaymentAllocation.invoice_id.in_(chosen))
            .group_by(PaymentAllocation.invoice_id, PaymentAllocation.kind)):
        settled[invoice_id][kind] = Decimal(total)
    credit_notes = dict(session.execute(
        select(Invoice.corrects_id, func.sum(Invoice.gross_total))
        .where(Invoice.kind == "credit_note", Invoice.status == "issued", Invoice.corrects_id.in_(chosen))
        .group_by(Invoice.corrects_id)).all())
    balances = []
    for invoice in invoices:
        kinds = settled.get(invoice.id, {})
        paid = kinds.get("payment", ZERO) + kinds.get("credit", ZERO) - kinds.get("return", ZERO)
        credited = Decimal(credit_notes.get(invoice.id) or ZERO) + kinds.get("credit_note", ZERO)
        skonto = kinds.get("skonto", ZERO)
        open_amount = to_cents(invoice.amount_due - paid - skonto - credited)
        balance = InvoiceBalance(invoice.id, invoice.number or "", invoice.customer_id, invoice.currency,
                                 invoice.issue_date, invoice.due_date, invoice.amount_due, to_cents(paid),
                                 to_cents(skonto), to_cents(credited), open_amount,
                                 (today - invoice.due_date).days)
        if only_open and open_amount <= 0:
            continue
        if overdue is not None and balance.is_overdue != overdue:
            continue
        balances.append((balance, invoice))
    return balances


def _issued_invoices() -> Select[tuple[Invoice]]:
    return select(Invoice).where(Invoice.status == "issued", Invoice.kind.in_(PAYABLE_KINDS))


def open_items_total(session: Session, customer_id: int, today: date) -> Decimal:
    """What the customer owes on issued invoices: the sum of their open amounts (an invoice paid
    beyond its amount lowers it; the customer's credit from over-payments is not counted)."""
    return sum((b.open_amount for b in invoice_balances(session, today=today, customer_id=customer_id)), ZERO)


def matchable_items(session: Session, *, today: date, include_numbers: Iterable[str] = (),
                    customer_id: int | None = None) -> list[OpenItem]:
    """The open invoices (of one customer, or all) as the matching sees them, and the settled ones
    named in `include_numbers` (a returned direct debit re-opens an invoice that is paid): at most
    seven queries, whatever the number of invoices."""
    statement = _issued_invoices()
    if customer_id is not None:
        statement = statement.where(Invoice.customer_id == customer_id)
    pairs = _balances(session, statement, today, only_open=True)
    wanted = set(include_numbers) - {b.number for b, _ in pairs}
    if wanted:
        pairs += _balances(session, statement.where(Invoice.number.in_(wanted)), today)
    if not pairs:
        return []
    balances = [b for b, _ in pairs]
    invoices = {i.id: i for _, i in pairs}
    ibans: dict[int, set[str]] = defaultdict(set)
    for customer_id, iban in session.execute(
            select(BankStatementLine.customer_id, BankStatementLine.counterparty_iban).distinct()
            .where(BankStatementLine.customer_id.in_({b.customer_id for b in balances}),
                   BankStatementLine.counterparty_iban.is_not(None),
                   or_(BankStatementLine.outcome.in_(("matched", "partial", "overpaid")),
                       BankStatementLine.clarification == "assigned"))):
        ibans[customer_id].add(iban)
    return [_item(b, invoices[b.invoice_id], frozenset(ibans.get(b.customer_id, ()))) for b in balances]


def _item(balance: InvoiceBalance, invoice: Invoice, ibans: frozenset[str]) -> OpenItem:
    portions = gross_by_rate(invoice)
    return OpenItem(
        item_id=invoice.id, number=balance.number, customer_id=invoice.customer_id, currency=invoice.currency,
        open_amount=max(balance.open_amount, ZERO), gross=to_cents(invoice.amount_due), due_date=invoice.due_date,
        customer_ibans=ibans, issue_date=invoice.issue_date,
        skonto_percent=(invoice.skonto_percent or Decimal(0)) if portions else Decimal(0),
        skonto_until=invoice.skonto_until, gross_by_rate=portions)


def gross_by_rate(invoice: Invoice) -> tuple[TaxPortion, ...]:
    """What the invoice asks to be paid, per tax rate: the tax groups' gross, scaled to the amount due
    when down payments are deducted (the last rate takes the rounding remainder)."""
    groups = [(Decimal(str(g["rate"])), Decimal(str(g["net"])) + Decimal(str(g["tax"])))
              for g in invoice.tax_groups or []]
    by_rate: dict[Decimal, Decimal] = {}
    for rate, gross in groups:
        by_rate[rate] = by_rate.get(rate, ZERO) + gross
    total = sum(by_rate.values(), ZERO)
    due = to_cents(invoice.amount_due)
    if not by_rate or total <= 0 or due <= 0:
        return ()
    portions, left = [], due
    for index, (rate, gross) in enumerate(by_rate.items()):
        share = left if index == len(by_rate) - 1 else to_cents(due * gross / total)
        left -= share
        portions.append(TaxPortion(rate, share))
    return tuple(portions)
