"""Dunning cases: the run that starts them, what each step of the process reads, how they end.

The dunning run (flows/dunning.py, daily) starts a case for every issued invoice that is overdue by
more than the grace days, still open, not in a direct-debit collection that may still pay it, and
without a case that runs or that accounting ended for good (stopped after a dispute, handed over).
A case that ended because the invoice was settled does not block a new one: a returned direct
debit re-opens the invoice, and dunning starts again from the reminder.

Authority: the run acts as Kontor; disputes are recorded and the tasks completed by accounting or
a manager only (domain.invoicing.access.INVOICING_ROLES), checked here where it happens."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.customers.models import Customer
from domain.customers.timeline import record_trace
from domain.dunning.models import OVER, Dunning
from domain.invoicing.models import Invoice
from domain.lifecycle import TraceEntry, change_state
from domain.payments.balances import PAYABLE_KINDS, InvoiceBalance, invoice_balances
from domain.payments.mandate_models import DirectDebitItem, DirectDebitRun
from domain.payments.mandates import require_accounting
from kernel import formatting
from kernel.errors import Conflict, NotFound
from kernel.principal import SYSTEM, Principal
from runtime.instances import start_instance
from runtime.runtime import ProcessRuntime

PROCESS = "dunning"
RUN_LIMIT = 500  # cases one run starts at most; the next run takes the rest


def require_dunning(who: Principal) -> None:
    """Dunning is accounting's (and managers'); a portal user finds none."""
    require_accounting(who, "dunning cases")


def due_invoices(session: Session, today: date, grace_days: int) -> list[InvoiceBalance]:
    """The invoices the run starts a case for, oldest due date first."""
    last_due = today - timedelta(days=grace_days + 1)
    running = exists().where(Dunning.open_invoice_id == Invoice.id)
    ended_for_good = exists().where(Dunning.invoice_id == Invoice.id, Dunning.status.in_(("stopped", "handed_over")))
    collecting = exists().where(DirectDebitItem.invoice_id == Invoice.id, DirectDebitItem.run_id == DirectDebitRun.id,
                                DirectDebitRun.collection_date > last_due)
    ids = list(session.scalars(select(Invoice.id).where(
        Invoice.status == "issued", Invoice.kind.in_(PAYABLE_KINDS), Invoice.due_date <= last_due,
        ~running, ~ended_for_good, ~collecting)))
    return invoice_balances(session, today=today, invoice_ids=ids, only_open=True) if ids else []


@dataclass(frozen=True)
class RunOutcome:
    started: tuple[str, ...]  # invoice numbers
    left: int  # due, but beyond this run's limit


def start_due_cases(session: Session, runtime: ProcessRuntime, who: Principal, today: date, grace_days: int,
                    limit: int = RUN_LIMIT) -> RunOutcome:
    """The dunning run, by the worker (as Kontor) or by accounting or a manager (as themselves)."""
    require_dunning(who)
    due = due_invoices(session, today, grace_days)
    started = []
    for balance in due[:limit]:
        if start_case(session, runtime, who, balance, today) is not None:
            started.append(balance.number)
    return RunOutcome(tuple(started), max(0, len(due) - limit))


def start_case(session: Session, runtime: ProcessRuntime, who: Principal, balance: InvoiceBalance,
               today: date) -> Dunning | None:
    """The invoice's case and its process; None when another run started one meanwhile."""
    customer = session.get(Customer, balance.customer_id)
    case = Dunning(invoice_id=balance.invoice_id, open_invoice_id=balance.invoice_id, customer_id=customer.id,
                   consumer=bool(customer.consumer), started_on=today, created_by=who.username)
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:  # a case runs already (a concurrent run): the database refused a second
        return None
    instance, _ = start_instance(session, runtime, who, PROCESS, {
        "dunning_id": case.id, "invoice_id": balance.invoice_id, "consumer": case.consumer,
        "assessment": {"summary": case_summary(customer, balance)}}, business_key=f"dunning:{case.id}")
    case.instance_id = instance.id
    record_trace(session, customer.id, "dunning_started", who.username,
                 f"dunning of {balance.number} started ({balance.open_amount} {balance.currency} open)",
                 "invoice", balance.invoice_id, params={"invoice": balance.number, "days": balance.days_overdue})
    return case


def case_summary(customer: Customer, balance: InvoiceBalance) -> str:
    return f"{balance.number} · {customer.name} · {formatting.money(balance.open_amount, balance.currency, 'de')} offen"


def case_for_step(session: Session, dunning_id: int, instance_id: int | None = None) -> Dunning:
    case = session.get(Dunning, dunning_id, with_for_update=True)
    if case is None:
        raise LookupError(f"dunning case {dunning_id} does not exist")
    if instance_id is not None and case.instance_id != instance_id:
        raise LookupError(f"process instance {instance_id} is not the process of dunning case {dunning_id}")
    return case


def balance_of(session: Session, case: Dunning, today: date) -> InvoiceBalance:
    [balance] = invoice_balances(session, today=today, invoice_ids=[case.invoice_id])
    return balance


def assess(session: Session, case: Dunning, today: date) -> dict:
    """What the next step reads: whether anything is still open (a settled invoice ends the case),
    the next level and the case's summary for task titles."""
    balance = balance_of(session, case, today)
    customer = session.get(Customer, case.customer_id)
    still_open = balance.open_amount > 0 and case.status not in OVER
    if not still_open and case.status not in OVER:
        end_case(session, case, "settled", today, SYSTEM, "the invoice is settled")
    return {"open": still_open, "next_level": case.level + 1, "level": case.level,
            "open_amount": str(balance.open_amount), "summary": case_summary(customer, balance)}


def end_case(session: Session, case: Dunning, status: str, today: date, who: Principal, outcome: str) -> None:
    """Settled, stopped or handed over: the case is over and the invoice free for a later case."""
    invoice = session.get(Invoice, case.invoice_id)
    change_state(session, case, status, TraceEntry(f"dunning_{status}", who.username,
                                                   f"dunning of {invoice.number} {status.replace('_', ' ')}: {outcome}",
                                                   ref=("invoice", invoice.id),
                                                   details={"params": {"invoice": invoice.number,
                                                                       "outcome": outcome[:200]}}))
    case.open_invoice_id, case.ended_on, case.outcome = None, today, outcome[:300]


def dispute(session: Session, runtime: ProcessRuntime, who: Principal, dunning_id: int, reason: str) -> Dunning:
    """The customer disputes the claim: the case pauses in the task "Klärfall" (message
    `dunning_dispute`; while a step runs it waits for the case to come back to waiting)."""
    from runtime.messages import correlate_message

    require_dunning(who)
    case = session.get(Dunning, dunning_id, with_for_update=True)
    if case is None:
        raise NotFound(f"dunning case {dunning_id} does not exist")
    if case.status != "running":
        raise Conflict(f"dunning case {dunning_id} is {case.status}: only a running case can be disputed")
    if case.level == 0:
        raise Conflict(f"dunning case {dunning_id} has sent no letter yet: nothing to dispute")
    invoice = session.get(Invoice, case.invoice_id)
    change_state(session, case, "disputed", TraceEntry(
        "dunning_disputed", who.username, f"dunning of {invoice.number} disputed: {reason}",
        ref=("invoice", invoice.id),
        details={"params": {"invoice": invoice.number, "outcome": reason[:200]}}))
    case.outcome = reason[:300]
    correlate_message(session, runtime, who, "dunning_dispute", {"dunning_id": case.id},
                      data={"reason": reason, "by": who.username}, message_id=f"dunning-dispute:{case.id}:{case.level}")
    return case


def guard_accounting(session: Session, who: Principal, task, variables: dict, action: str, data: dict | None) -> None:
    require_dunning(who)


def record_dispute(session: Session, who: Principal, task, variables: dict, data: dict) -> dict:
    """Klärfall decided: resume dunning, or stop it for good (the case stays on record)."""
    from kernel.clock import utcnow

    require_dunning(who)
    case = case_for_step(session, variables["dunning_id"])
    if case.status in OVER:  # settled while it was disputed: nothing left to resume or stop
        return {"decision": data["decision"], "case": case.status}
    invoice = session.get(Invoice, case.invoice_id)
    if data["decision"] == "resume":
        change_state(session, case, "running", TraceEntry(
            "dunning_resumed", who.username, f"dunning of {invoice.number} resumed: {data['note']}",
            ref=("invoice", invoice.id),
            details={"params": {"invoice": invoice.number, "outcome": data["note"][:200]}}))
    else:
        end_case(session, case, "stopped", utcnow().date(), who, data["note"])
    return {"decision": data["decision"], "case": case.status}


def record_handover(session: Session, who: Principal, task, variables: dict, data: dict) -> dict:
    from kernel.clock import utcnow

    require_dunning(who)
    case = case_for_step(session, variables["dunning_id"])
    if case.status not in OVER:
        end_case(session, case, "handed_over", utcnow().date(), who, f"{data['handed_to']}: {data['note']}")
    return {"handed_to": data["handed_to"], "case": case.status}
