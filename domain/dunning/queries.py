"""Reading dunning cases and their letters (accounting and managers only; a portal user finds none),
and what the dunning process's tasks show beside them."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import Customer
from domain.dunning.cases import require_dunning
from domain.dunning.letters import letters_of
from domain.dunning.models import Dunning, DunningLetter
from domain.invoicing.access import INVOICING_ROLES
from domain.invoicing.models import Invoice
from domain.payments.balances import invoice_balances
from kernel.clock import utcnow
from kernel.errors import NotFound
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal

CASE_SORTS = {"id": Dunning.id, "started_on": Dunning.started_on, "level": Dunning.level}


@dataclass
class CaseView:
    case: Dunning
    invoice_number: str
    letters: list[DunningLetter]


def list_cases(session: Session, who: Principal, page: PageRequest, status: str | None = None,
               customer_id: int | None = None, invoice_id: int | None = None) -> tuple[list[CaseView], int]:
    require_dunning(who)
    statement = select(Dunning)
    for column, value in ((Dunning.status, status), (Dunning.customer_id, customer_id),
                          (Dunning.invoice_id, invoice_id)):
        if value is not None:
            statement = statement.where(column == value)
    cases, total = page_of(session, statement, page, CASE_SORTS, Dunning.id)
    return [view_of(session, case) for case in cases], total


def view_of(session: Session, case: Dunning) -> CaseView:
    return CaseView(case, session.get(Invoice, case.invoice_id).number, letters_of(session, case.id))


def get_case(session: Session, who: Principal, dunning_id: int) -> CaseView:
    require_dunning(who)
    case = session.get(Dunning, dunning_id)
    if case is None:
        raise NotFound(f"dunning case {dunning_id} does not exist")
    return view_of(session, case)


def get_letter(session: Session, who: Principal, letter_id: int) -> DunningLetter:
    require_dunning(who)
    letter = session.get(DunningLetter, letter_id)
    if letter is None:
        raise NotFound(f"dunning letter {letter_id} does not exist")
    return letter


def dunning_brief(session: Session, who: Principal, task, variables: dict, language: str = "de") -> dict | None:
    """Beside "Klärfall" and "Übergabe an Inkasso / Anwalt": the case, its invoice and what is open on
    it, every letter sent with its claim, and the dispute (its reason and who recorded it). Only for
    whoever may read dunning cases (accounting, managers): ops see every task, not its case."""
    if who.is_portal or not who.has_any(*INVOICING_ROLES):
        return None
    case = session.get(Dunning, variables.get("dunning_id"))
    if case is None:
        return None
    invoice = session.get_one(Invoice, case.invoice_id)
    customer = session.get_one(Customer, case.customer_id)
    [balance] = invoice_balances(session, today=utcnow().date(), invoice_ids=[invoice.id])
    dispute = variables.get("dispute")
    return {
        "case": {"id": case.id, "status": case.status, "level": case.level, "consumer": case.consumer,
                 "started_on": case.started_on.isoformat(), "outcome": case.outcome},
        "invoice": {"id": invoice.id, "number": invoice.number, "issue_date": invoice.issue_date.isoformat(),
                    "due_date": invoice.due_date.isoformat(), "currency": invoice.currency,
                    "amount_due": f"{invoice.amount_due:.2f}", "open_amount": f"{balance.open_amount:.2f}",
                    "days_overdue": balance.days_overdue},
        "customer": {"id": customer.id, "number": customer.number, "name": customer.name},
        "letters": [{"level": letter.level, "kind": letter.kind, "letter_date": letter.letter_date.isoformat(),
                     "pay_by": letter.pay_by.isoformat(), "open_amount": f"{letter.open_amount:.2f}",
                     "interest": f"{letter.interest:.2f}", "fees": f"{letter.fees_total:.2f}",
                     "total_claim": f"{letter.total_claim:.2f}", "sent": letter.outbox_id is not None}
                    for letter in letters_of(session, case.id)],
        "dispute": {"reason": dispute.get("reason"), "by": dispute.get("by")} if isinstance(dispute, dict) else None,
    }
