"""The clarification of a statement line no rule could match (bpmn/payment_clarification.bpmn): one
process instance per line, its user task "Zahlung klären" for accounting.

Why one instance per line rather than one per statement: each line is decided on its own, by
whoever takes it, at its own time; a statement's twenty open lines are twenty tasks in the inbox
that several people can work side by side, and the line's id as business key makes starting it
again (an import retried) start nothing new.

Completing the task is checked where it happens: the completer must be accounting or a manager,
the line must still be open, and an assignment must name issued invoices of one customer in the
line's currency whose amounts fit what is open on them and, together, the line's amount. Money in
that is assigned books a payment (its rest is the customer's credit); a returned direct debit that
is assigned re-opens the invoices it names."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.invoicing.models import Invoice
from domain.payments.balances import invoice_balances
from domain.payments.commands import (
    Booking,
    Settlement,
    book,
    checked_settlements,
    lock_payments,
    require_payments,
)
from domain.payments.matching import REASONS
from domain.payments.models import BankStatementLine
from kernel.clock import utcnow
from kernel.errors import Conflict, NotFound, ValidationFailed
from kernel.principal import Principal
from runtime.instances import start_instance
from runtime.runtime import ProcessRuntime

PROCESS = "payment_clarification"
ZERO = Decimal("0.00")


def start_clarification(session: Session, runtime: ProcessRuntime, actor: Principal, line: BankStatementLine) -> int:
    """The line's clarification process (started once per line); its instance id."""
    summary = f"{line.amount:.2f} {line.currency} {line.booking_date.isoformat()} " + \
        (line.counterparty_name or line.counterparty_iban or "")
    instance, _ = start_instance(session, runtime, actor, PROCESS, {
        "line_id": line.id, "statement_id": line.statement_id, "line_summary": summary.strip()[:150]},
        business_key=f"statement_line:{line.id}")
    return instance.id


def _open_line(session: Session, variables: dict, lock: bool = False) -> BankStatementLine:
    statement = select(BankStatementLine).where(BankStatementLine.id == variables.get("line_id"))
    line = session.scalar(statement.with_for_update() if lock else statement)
    if line is None:
        raise NotFound("the statement line of this task is gone")
    if line.clarification != "open":
        raise Conflict(f"statement line {line.id} is clarified already ({line.clarification}, by {line.clarified_by})")
    return line


def guard_clarification(session: Session, who: Principal, task, variables: dict, action: str,
                        data: dict | None) -> None:
    """Only accounting or a manager clarifies a payment, and only a line that is still open."""
    require_payments(who)
    _open_line(session, variables)


def record_clarification(session: Session, who: Principal, task, variables: dict, data: dict) -> dict:
    """What completing "Zahlung klären" decides: the line booked to the invoices named, or marked as no
    customer payment. Refused (422, nothing recorded) when the amounts do not fit."""
    require_payments(who)
    lock_payments(session)
    line = _open_line(session, variables, lock=True)
    today = utcnow().date()
    if data["decision"] == "not_customer_payment":
        line.clarification = "not_customer_payment"
    else:
        customer_id = _assign(session, who, line, data.get("allocations") or [], today)
        line.clarification, line.customer_id = "assigned", customer_id
    line.clarified_by, line.clarified_at = who.username, utcnow()
    line.clarification_note = (data.get("note") or "").strip() or None
    return {"clarification": line.clarification}


def _assign(session: Session, who: Principal, line: BankStatementLine, wanted: list[dict], today: date) -> int:
    if not wanted:
        raise ValidationFailed("the assignment was refused", [
            {"field": "allocations", "message": "name at least one invoice, or decide not_customer_payment"}])
    numbers = [entry["invoice_number"].strip() for entry in wanted]
    ids = dict(session.execute(select(Invoice.number, Invoice.id).where(Invoice.number.in_(numbers))).all())
    errors, triples = [], []
    for index, entry in enumerate(wanted):
        number = entry["invoice_number"].strip()
        amount, skonto = _decimal(entry.get("amount")), _decimal(entry.get("skonto") or "0")
        if number not in ids:
            errors.append({"field": f"allocations.{index}.invoice_number", "message": f"no invoice {number}"})
        elif amount is None or skonto is None:
            errors.append({"field": f"allocations.{index}", "message": "amounts are decimals with a point"})
        else:
            triples.append((ids[number], amount, skonto))
    if errors:
        raise ValidationFailed("the assignment was refused", errors)
    if line.direction == "debit":
        return _reopen(session, who, line, triples, today)
    settlements = checked_settlements(session, None, line.currency, line.amount, triples, today)
    customer_id = session.scalar(select(Invoice.customer_id).where(Invoice.id == settlements[0].invoice_id))
    allocated = sum((s.amount for s in settlements), ZERO)
    book(session, Booking(customer_id, line.amount, line.currency, line.booking_date, "statement",
                          line.remittance or line.end_to_end_id, line.id, settlements, line.amount - allocated),
         who.username)
    return customer_id


def _reopen(session: Session, who: Principal, line: BankStatementLine, triples: list, today: date) -> int:
    """A returned direct debit assigned by hand: it re-opens at most what was paid on each invoice."""
    balances = {b.invoice_id: b for b in invoice_balances(session, today=today, invoice_ids=[t[0] for t in triples])}
    errors = []
    for index, (invoice_id, amount, _) in enumerate(triples):
        balance = balances.get(invoice_id)
        if balance is None or amount <= 0 or amount > balance.paid or balance.currency != line.currency:
            errors.append({"field": f"allocations.{index}", "message": "a return re-opens at most what was paid "
                                                                        "on an issued invoice, in its currency"})
    if len({b.customer_id for b in balances.values()}) > 1:
        errors.append({"field": "allocations", "message": "the invoices belong to several customers"})
    if sum((t[1] for t in triples), ZERO) > line.amount:
        errors.append({"field": "allocations", "message": f"more than the returned {line.amount}"})
    if errors:
        raise ValidationFailed("the assignment was refused", errors)
    customer_id = balances[triples[0][0]].customer_id
    book(session, Booking(customer_id, -line.amount, line.currency, line.booking_date, "statement",
                          line.remittance or line.end_to_end_id, line.id,
                          [Settlement(invoice_id, reopen=amount) for invoice_id, amount, _ in triples]), who.username)
    return customer_id


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def clarification_brief(session: Session, who: Principal, task, variables: dict, language: str = "de") -> dict | None:
    """What accounting sees beside the task: the line and why no rule matched it."""
    line = session.get(BankStatementLine, variables.get("line_id"))
    if line is None:
        return None
    reason = REASONS.get(line.reason or "")
    return {"line": {"id": line.id, "statement_id": line.statement_id, "amount": f"{line.amount:.2f}",
                     "currency": line.currency, "direction": line.direction,
                     "booking_date": line.booking_date.isoformat(), "counterparty_name": line.counterparty_name,
                     "counterparty_iban": line.counterparty_iban, "remittance": line.remittance,
                     "end_to_end_id": line.end_to_end_id, "is_return": line.is_return,
                     "clarification": line.clarification},
            "reason": None if reason is None else reason[0 if language == "de" else 1]}
