"""SEPA direct debits: customers' mandates, and runs that collect the invoices still owed under them
as a pain.008 file for the bank."""
from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentUser, KontorDep, SessionDep
from api.direct_debit_schemas import DirectDebitItemOut, DirectDebitRequest, DirectDebitRunOut, MandateIn, MandateOut
from api.downloads import content_disposition
from api.error_responses import ErrorOut
from api.params import RecordId
from domain.payments import direct_debits, mandates
from domain.settings import company_today
from kernel.documents import DocumentStore

# a customer's mandates, one mandate, the collection runs: three roots, one router each
customer_router = APIRouter(prefix="/customers/{customer_id}/mandates", tags=["direct debits"])
mandate_router = APIRouter(prefix="/mandates", tags=["direct debits"])
router = APIRouter(prefix="/direct-debits", tags=["direct debits"])


NO_DIRECT_DEBITS: dict = {404: {"model": ErrorOut, "description": "For a portal user there are no direct debits"}}


def _store(kontor) -> DocumentStore:
    return DocumentStore.under(kontor.settings.data_dir)


@customer_router.post("", response_model=MandateOut, status_code=201,
             summary="Record the customer's signed SEPA mandate (accounting, managers): its invoices are then "
                     "collected by direct debit")
def create_mandate(customer_id: RecordId, body: MandateIn, session: SessionDep, kontor: KontorDep,
                   user: CurrentUser):
    mandate = mandates.create_mandate(session, user, customer_id, mandates.MandateInput(**body.model_dump()),
                                      company_today(kontor.settings))
    return mandates.mandate_view(mandate, user)


@customer_router.get("", response_model=list[MandateOut],
            summary="The customer's mandates, newest first (portal users: their own customer's, IBAN masked)")
def list_mandates(customer_id: RecordId, session: SessionDep, user: CurrentUser):
    return [mandates.mandate_view(m, user) for m in mandates.mandates_of(session, user, customer_id)]


@mandate_router.post("/{mandate_id}/revoke", response_model=MandateOut,
             summary="Revoke the mandate: nothing more is collected under it")
def revoke_mandate(mandate_id: RecordId, session: SessionDep, user: CurrentUser):
    return mandates.mandate_view(mandates.revoke_mandate(session, user, mandate_id), user)


def _run_out(session, run) -> DirectDebitRunOut:
    return DirectDebitRunOut.model_validate({
        **{column.key: getattr(run, column.key) for column in run.__table__.columns},
        "items": [DirectDebitItemOut.model_validate(item) for item in direct_debits.items_of(session, run.id)]})


@router.post("", response_model=DirectDebitRunOut, status_code=201, responses=NO_DIRECT_DEBITS,
             summary="Collect every invoice still owed under active mandates on the collection date: one pain.008 "
                     "file (409 when nothing is owed)")
def collect(body: DirectDebitRequest, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    run = direct_debits.collect_due_invoices(session, user, kontor.settings, _store(kontor), body.collection_date,
                                             company_today(kontor.settings), body.scheme)
    return _run_out(session, run)


@router.get("/{run_id}", response_model=DirectDebitRunOut, summary="The run and its items")
def get_run(run_id: RecordId, session: SessionDep, user: CurrentUser):
    return _run_out(session, direct_debits.readable_run(session, user, run_id))


@router.get("/{run_id}/file", response_class=Response,
            responses={200: {"content": {"application/xml": {}}}},
            summary="The run's pain.008.001.08 file, as validated and recorded")
def run_file(run_id: RecordId, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    filename, content = direct_debits.run_file(session, user, _store(kontor), run_id)
    return Response(content, media_type="application/xml",
                    headers={"Content-Disposition": content_disposition(filename, "attachment")})
