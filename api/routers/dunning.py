"""Dunning: the run that starts cases for overdue invoices, the cases with their letters, disputes
(thin: read the request, call the domain)."""
from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentUser, KontorDep, SessionDep
from api.downloads import content_disposition
from api.dunning_schemas import DisputeIn, DunningLetterOut, DunningOut, DunningRunOut, DunningState
from api.error_responses import ErrorOut
from api.params import OptionalId, RecordId, paging
from api.schemas import Page
from domain.dunning import cases, queries
from domain.settings import company_today
from kernel.documents import DocumentStore
from kernel.errors import NotFound

router = APIRouter(prefix="/dunning", tags=["dunning"])
NO_DUNNING: dict = {404: {"model": ErrorOut, "description": "For a portal user there is no dunning"}}
CasePage = paging("-started_on", *queries.CASE_SORTS)


def case_out(view: queries.CaseView) -> DunningOut:
    c = view.case
    letters = [DunningLetterOut.model_validate({**{k: getattr(letter, k) for k in DunningLetterOut.model_fields
                                                   if k != "sent"}, "sent": letter.outbox_id is not None})
               for letter in view.letters]
    return DunningOut(id=c.id, invoice_id=c.invoice_id, invoice_number=view.invoice_number, customer_id=c.customer_id,
                      status=c.status, level=c.level, consumer=c.consumer, instance_id=c.instance_id,
                      started_on=c.started_on, ended_on=c.ended_on, outcome=c.outcome, created_at=c.created_at,
                      letters=letters)


@router.post("/runs", response_model=DunningRunOut, responses=NO_DUNNING,
             summary="Start dunning now for every invoice overdue beyond the grace days (the worker does this "
                     "daily as the Prefect flow run 'dunning run')")
def run(session: SessionDep, kontor: KontorDep, user: CurrentUser):
    outcome = cases.start_due_cases(session, kontor.runtime, user, company_today(kontor.settings),
                                    kontor.settings.dunning_grace_days)
    return DunningRunOut(started=list(outcome.started), left=outcome.left)


@router.get("", response_model=Page[DunningOut], responses=NO_DUNNING,
            summary="Dunning cases with their letters: filter, sort, page")
def list_(session: SessionDep, user: CurrentUser, page: CasePage, status: DunningState | None = None,
          customer_id: OptionalId = None, invoice_id: OptionalId = None):
    views, total = queries.list_cases(session, user, page, status, customer_id, invoice_id)
    return Page(items=[case_out(v) for v in views], total=total, limit=page.limit, offset=page.offset)


@router.get("/{dunning_id}", response_model=DunningOut, summary="One case with its letters")
def get(dunning_id: RecordId, session: SessionDep, user: CurrentUser):
    return case_out(queries.get_case(session, user, dunning_id))


@router.post("/{dunning_id}/dispute", response_model=DunningOut,
             summary="The customer disputes the claim: dunning pauses in the task 'Klärfall' for accounting")
def dispute(dunning_id: RecordId, body: DisputeIn, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    cases.dispute(session, kontor.runtime, user, dunning_id, body.reason)
    return case_out(queries.get_case(session, user, dunning_id))


@router.get("/letters/{letter_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}}, summary="The letter's PDF, as mailed")
def letter_pdf(letter_id: RecordId, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    letter = queries.get_letter(session, user, letter_id)
    if letter.document_id is None:
        raise NotFound(f"dunning letter {letter_id} has no PDF yet")
    filename, content_type, content = DocumentStore.under(kontor.settings.data_dir).load(session, letter.document_id)
    return Response(content, media_type=content_type,
                    headers={"Content-Disposition": content_disposition(filename, "attachment")})
