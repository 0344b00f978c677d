"""The periodic invoicing run (Rechnungslauf): for every customer with a recurring order line whose
next period has begun (a monthly or quarterly subscription from the catalog), Kontor drafts the
customer's invoices — the periods due and whatever else is delivered and not yet invoiced, as the
customer's settings group them — and releases each for issue: its order-to-invoice process starts,
and the approval rules (bpmn/invoice_approval.dmn) still ask a person where they would for any
invoice. A draft the issue check refuses (a missing address, a rule of EN 16931) stays a draft for
accounting, with the reason in the run's summary; one customer's trouble never stops the run.

Drafting the same period twice is impossible: a period held by any invoice (draft or issued) is not
due again (domain.invoicing.milestones.due_periods)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.invoicing import process
from domain.invoicing.drafts import OPEN_ORDER_STATES, draft_invoices
from domain.invoicing.milestones import due_periods
from domain.orders.models import Order
from kernel.errors import Conflict, KontorError
from kernel.principal import Principal
from runtime.runtime import ProcessRuntime

# Kontor itself drafts and releases in the run; it never approves (approvers are people, four eyes)
RUN_ACCOUNTANT = Principal("kontor", frozenset({"accounting"}))


@dataclass
class InvoiceRun:
    released: list[str] = field(default_factory=list)  # invoice labels
    left_as_draft: dict[str, str] = field(default_factory=dict)  # label -> why the issue check refused it
    customers: int = 0


def customers_due(session: Session, today: date) -> list[int]:
    """Customers with a recurring line whose next period has begun by `today`."""
    orders = dict(session.execute(select(Order.id, Order.customer_id).where(Order.status.in_(OPEN_ORDER_STATES))).all())
    return sorted({orders[line.order_id] for line, _, _ in due_periods(session, list(orders), today)})


def run_periodic_invoicing(session: Session, runtime: ProcessRuntime, today: date,
                           check: Callable[[Session, Principal, int], None]) -> InvoiceRun:
    """Draft and release the invoices of every customer due (each customer in a savepoint of its own)."""
    outcome = InvoiceRun()
    for customer_id in customers_due(session, today):
        try:
            with session.begin_nested():
                drafts = draft_invoices(session, RUN_ACCOUNTANT, today, customer_id=customer_id)
        except Conflict:  # nothing left to draft (a draft holds the period already)
            continue
        outcome.customers += 1
        for invoice in drafts:
            try:
                with session.begin_nested():
                    released = process.release(session, runtime, RUN_ACCOUNTANT, invoice.id, None, check)
                outcome.released.append(released.label)
            except KontorError as refused:
                outcome.left_as_draft[invoice.label] = "; ".join(
                    [refused.message, *(f"{d.get('field')}: {d.get('message')}" for d in refused.details or [])])
    return outcome
