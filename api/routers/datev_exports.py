"""The DATEV export for the tax advisor: a period's bookings as EXTF Buchungsstapel with the invoices'
files, recorded and downloadable again."""
from __future__ import annotations

from fastapi import APIRouter, Response

from api.datev_schemas import DatevExportIn, DatevExportOut
from api.deps import CurrentUser, KontorDep, SessionDep
from api.downloads import content_disposition
from api.params import RecordId, paging
from api.schemas import Page, page_out
from domain.accounting import exports
from domain.payments.bookings import bookings_in
from kernel.documents import DocumentStore

router = APIRouter(prefix="/exports/datev", tags=["accounting"])
ExportPage = paging("-created_at", "id", "created_at", "date_from")


@router.post("", response_model=DatevExportOut, status_code=201,
             summary="Export the period's invoices and credit notes (by issue date) as DATEV EXTF Buchungsstapel "
                     "with their files, as one ZIP (accounting, managers)")
def create(body: DatevExportIn, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    return exports.create_export(session, user, kontor.settings, DocumentStore.under(kontor.settings.data_dir),
                                 body.date_from, body.date_to, payments=bookings_in)


@router.get("", response_model=Page[DatevExportOut], summary="The exports made, newest first")
def list_(session: SessionDep, user: CurrentUser, page: ExportPage):
    return page_out(DatevExportOut, exports.list_exports(session, user, page), page)


@router.get("/{export_id}/file", response_class=Response, responses={200: {"content": {"application/zip": {}}}},
            summary="The export's ZIP, byte for byte as it was made")
def file(export_id: RecordId, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    filename, content = exports.export_file(session, user, DocumentStore.under(kontor.settings.data_dir), export_id)
    return Response(content, media_type="application/zip",
                    headers={"Content-Disposition": content_disposition(filename, "attachment")})
