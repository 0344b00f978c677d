"""Reading dunning cases and their letters (accounting and managers only; a portal user finds none)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.dunning.cases import require_dunning
from domain.dunning.letters import letters_of
from domain.dunning.models import Dunning, DunningLetter
from domain.invoicing.models import Invoice
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
