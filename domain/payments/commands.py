"""Recording payments: by hand (with explicit allocations, or allocated by the matching from the
reference), from a statement line the matching decided, or from a clarified line. One booking
function writes the payment, its allocations and the customer's credit, so every path books alike.

Who: accounting and managers record payments; checked here, where the payment is written."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer
from domain.invoicing.models import Invoice
from domain.payments.balances import PAYABLE_KINDS, gross_by_rate, invoice_balances, matchable_items
from domain.payments.matching import REASONS, match_statement_lines
from domain.payments.models import CustomerCredit, Payment, PaymentAllocation
from domain.payments.open_items import SkontoShare, split_skonto
from domain.payments.statements import StatementLine
from kernel.clock import utcnow
from kernel.db import lock_for_startup
from kernel.errors import Forbidden, NotFound, ValidationFailed
from kernel.principal import Principal

PAYMENT_ROLES = ("accounting", "manager")
ZERO = Decimal("0.00")
PAYMENTS_LOCK = 0x4B4F4E21  # PostgreSQL advisory lock: one booking of payments at a time


def lock_payments(session: Session) -> None:
    """Bookings of payments one after another (a statement import, a payment by hand, a clarified
    line): each reads what is open and allocates against it, so two at once could both take the same
    open amount. Held until the transaction ends; SQLite serializes writers anyway."""
    lock_for_startup(session, PAYMENTS_LOCK)


def require_payments(who: Principal) -> None:
    """Payments are recorded and statements imported by accounting or a manager."""
    if who.is_portal:
        raise NotFound("no payments here")
    if not who.has_any(*PAYMENT_ROLES):
        raise Forbidden("payments are recorded by accounting or a manager")


@dataclass(frozen=True)
class Settlement:
    """What a payment does to one invoice: `amount` of money, `skonto` granted on top, or (`reopen`)
    the amount a returned direct debit opens again."""
    invoice_id: int
    amount: Decimal = ZERO
    skonto: Decimal = ZERO
    skonto_shares: tuple[SkontoShare, ...] = ()
    reopen: Decimal = ZERO


@dataclass
class Booking:
    """A payment to write: the money, the customer, and what it settles; the rest is the customer's credit."""
    customer_id: int
    amount: Decimal
    currency: str
    booking_date: date
    source: str
    reference: str | None = None
    statement_line_id: int | None = None
    settlements: list[Settlement] = field(default_factory=list)
    credit: Decimal = ZERO


BALANCE_CHANGED = "kontor.balance_changed"  # session.info: invoices whose open amount changed in this transaction


def note_balance_changed(session: Session, invoice_ids) -> None:
    """Remember, until the transaction commits, that these invoices' open amounts changed (whoever
    waits for an invoice to be settled hears it then: domain.dunning.settlement)."""
    session.info.setdefault(BALANCE_CHANGED, set()).update(invoice_ids)


def book(session: Session, booking: Booking, made_by: str) -> Payment:
    """Write one payment with its allocations and credit (book_many for one)."""
    [payment_id] = book_many(session, [booking], made_by)
    return session.get_one(Payment, payment_id)


def book_many(session: Session, bookings: list[Booking], made_by: str) -> list[int]:
    """Write the payments, one allocation per kind and invoice, and the credits, in three bulk
    statements whatever their number (a statement of 10,000 lines is one booking of all its lines);
    the payments' ids in the order of `bookings`."""
    if not bookings:
        return []
    now = utcnow()
    payment_ids = list(session.scalars(insert(Payment).returning(Payment.id, sort_by_parameter_order=True), [
        {"customer_id": b.customer_id, "amount": b.amount, "currency": b.currency, "booking_date": b.booking_date,
         "source": b.source, "reference": (b.reference or None) and b.reference[:300],
         "statement_line_id": b.statement_line_id, "created_by": made_by, "created_at": now} for b in bookings]))
    allocations, credits = [], []
    for payment_id, b in zip(payment_ids, bookings, strict=True):
        for s in b.settlements:
            for kind, amount, shares in (("payment", s.amount, []),
                                         ("skonto", s.skonto, [_share(x) for x in s.skonto_shares]),
                                         ("return", s.reopen, [])):
                if amount:
                    allocations.append({"payment_id": payment_id, "invoice_id": s.invoice_id, "kind": kind,
                                        "amount": amount, "credit_note_id": None, "shares": shares,
                                        "created_at": now})
        if b.credit > 0:
            credits.append({"customer_id": b.customer_id, "payment_id": payment_id, "amount": b.credit,
                            "currency": b.currency, "created_at": now})
    if allocations:
        session.execute(insert(PaymentAllocation), allocations)
        note_balance_changed(session, {a["invoice_id"] for a in allocations})
    if credits:
        session.execute(insert(CustomerCredit), credits)
    return payment_ids


def _share(share: SkontoShare) -> dict[str, str]:
    return {"rate": f"{share.rate:.2f}", "gross": f"{share.gross:.2f}", "net": f"{share.net:.2f}",
            "tax": f"{share.tax:.2f}"}


@dataclass(frozen=True)
class AllocationRequest:
    invoice_id: int
    amount: Decimal
    skonto: Decimal = ZERO


def record_payment(session: Session, who: Principal, *, customer_id: int, amount: Decimal, currency: str,
                   booking_date: date, source: str, reference: str | None,
                   allocations: list[AllocationRequest] | None, today: date) -> Payment:
    """A payment recorded by hand. With allocations: each must name an issued invoice of this
    customer in the payment's currency, and fit what is open on it; the money not allocated is the
    customer's credit. Without: the matching allocates it by the invoice numbers in the reference
    (or, failing those, by amount), among this customer's open invoices."""
    require_payments(who)
    readable_customer(session, who, customer_id)
    lock_payments(session)
    if amount <= 0:
        raise ValidationFailed("the payment was refused", [{"field": "amount", "message": "a payment is positive"}])
    if allocations:
        settlements = checked_settlements(session, customer_id, currency, amount,
                                          [(a.invoice_id, a.amount, a.skonto) for a in allocations], today)
    else:
        settlements = _matched(session, customer_id, amount, currency, booking_date, reference or "", today)
    allocated = sum((s.amount for s in settlements), ZERO)
    return book(session, Booking(customer_id, amount, currency, booking_date, source, reference, None, settlements,
                                 amount - allocated), who.username)


def checked_settlements(session: Session, customer_id: int | None, currency: str, amount: Decimal,
                        wanted: list[tuple[int, Decimal, Decimal]], today: date,
                        field_name: str = "allocations") -> list[Settlement]:
    """Settlements of (invoice id, amount, Skonto) as a person gave them, checked: issued invoices of
    one customer (this one, when given), in the currency, each at most what is open on it, together
    at most the money. The invoices are locked, so two payments cannot both take the same open amount."""
    ids = [invoice_id for invoice_id, _, _ in wanted]
    invoices = {i.id: i for i in session.scalars(select(Invoice).where(Invoice.id.in_(ids)).with_for_update())}
    open_on = {b.invoice_id: b.open_amount for b in invoice_balances(session, today=today, invoice_ids=ids)}
    errors, settlements, total = [], [], ZERO
    for index, (invoice_id, money, skonto) in enumerate(wanted):
        where = f"{field_name}.{index}"
        invoice = invoices.get(invoice_id)
        if invoice is None or invoice.status != "issued" or invoice.kind not in PAYABLE_KINDS or \
                (customer_id is not None and invoice.customer_id != customer_id):
            errors.append({"field": where, "message": f"invoice {invoice_id} is no issued invoice of this customer"})
            continue
        if invoice.currency != currency:
            errors.append({"field": where, "message": f"invoice {invoice.number} is in {invoice.currency}, "
                                                      f"the payment in {currency}"})
            continue
        if money < 0 or skonto < 0 or money + skonto <= 0:
            errors.append({"field": where, "message": "amounts are positive"})
            continue
        agreed = invoice.skonto_amount or ZERO
        if skonto > agreed:  # Skonto is what the invoice offered, nothing more: a write-off is a credit note
            errors.append({"field": f"{where}.skonto", "message": (
                f"at most the Skonto invoice {invoice.number} offers ({agreed})" if agreed else
                f"invoice {invoice.number} offers no Skonto: correct it by a credit note")})
            continue
        if money + skonto > open_on.get(invoice_id, ZERO):
            errors.append({"field": where, "message": f"{money + skonto} is more than the {open_on.get(invoice_id)} "
                                                      f"open on invoice {invoice.number}"})
            continue
        total += money
        shares = split_skonto(skonto, gross_by_rate(invoice)) if skonto else ()
        settlements.append(Settlement(invoice_id, money, skonto, shares))
    if len({invoices[s.invoice_id].customer_id for s in settlements}) > 1:
        errors.append({"field": field_name, "message": "the invoices belong to several customers"})
    if total > amount:
        errors.append({"field": field_name, "message": f"the allocations ({total}) exceed the amount ({amount})"})
    if errors:
        raise ValidationFailed("the allocations do not fit", errors)
    return settlements


def _matched(session: Session, customer_id: int, amount: Decimal, currency: str, booked: date, reference: str,
             today: date) -> list[Settlement]:
    items = matchable_items(session, today=today, customer_id=customer_id)
    line = StatementLine(position=1, amount=amount, direction="credit", currency=currency, booking_date=booked,
                         remittance=reference, fingerprint="manual")
    [decision] = match_statement_lines([line], items)
    if decision.outcome == "unmatched":
        reason = REASONS[decision.reason or "no_reference"][1]
        raise ValidationFailed("the payment names no open invoice of this customer", [
            {"field": "reference", "message": f"{reason}; give the allocations"}])
    return settlements_of(decision.allocations)


def settlements_of(allocations) -> list[Settlement]:
    """The matching's allocations as settlements (invoice allocations only: credit notes are netted
    on the invoices they correct)."""
    return [Settlement(int(a.item_id), a.amount, a.skonto, a.skonto_shares) for a in allocations
            if a.kind == "invoice"]
