"""The DATEV hand-over to the tax advisor: for a period, one ZIP with the EXTF Buchungsstapel
(`EXTF_Buchungsstapel_<from>_<to>.csv`) and the file of every invoice and credit note booked in it,
named as its booking's Beleglink says (`INV-2026-0001.pdf`; the e-invoice XML where no PDF was
rendered yet). Accounting and managers make and read them; nobody else learns they exist beyond a 403.

An export is recorded (period, who, when, rows, the ZIP in the content store) and may be made again
for the same period: the bookings come from issued records only, which never change, in a fixed
order, so a second export of the same period has the same rows; only the header's creation time
(the record's) differs. A download gives the recorded ZIP, byte for byte. A period without bookings
gives a Buchungsstapel with its header and column rows only: the tax advisor sees the period was
handed over and empty."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounting.bookings import PaymentSource, booking_rows, issued_in, no_payments
from domain.accounting.charts import AccountingError
from domain.accounting.datev import BatchHeader, write_buchungsstapel
from domain.accounting.models import DatevExport
from domain.accounting.settings import DatevSettings, chart_of, fiscal_year_start
from domain.invoicing.access import INVOICING_ROLES
from domain.invoicing.files import file_of
from kernel.documents import DocumentStore
from kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal

EXPORT_SORTS = {"id": DatevExport.id, "created_at": DatevExport.created_at, "date_from": DatevExport.date_from}


def require_datev(who: Principal) -> None:
    """The tax advisor's hand-over is accounting's (and managers'): internal, like every export."""
    if who.is_portal or not who.has_any(*INVOICING_ROLES):
        raise Forbidden("DATEV exports are made and read by accounting or a manager")


def check_period(settings: DatevSettings, date_from: date, date_to: date) -> None:
    """A period runs forward and lies within one fiscal year (DATEV imports a batch into one year)."""
    if date_to < date_from:
        raise ValidationFailed("the period is not valid", [{"field": "date_to", "message": "on or after date_from"}])
    start = fiscal_year_start(settings, date_from)
    if date_to >= start.replace(year=start.year + 1):
        raise ValidationFailed("the period is not valid", [{"field": "date_to", "message": (
            f"within the fiscal year that starts on {start.isoformat()}: one export per fiscal year")}])


def create_export(session: Session, who: Principal, settings: DatevSettings, store: DocumentStore, date_from: date,
                  date_to: date, payments: PaymentSource = no_payments) -> DatevExport:
    """Export the period: the bookings, the documents' files, the record; Conflict naming the document
    whose booking the chart or the format cannot express."""
    require_datev(who)
    check_period(settings, date_from, date_to)
    export = DatevExport(date_from=date_from, date_to=date_to, row_count=0, document_count=0, filename="",
                         file_sha256="", created_by=who.username)
    session.add(export)
    session.flush()  # its creation time is the batch's
    files = _document_files(session, store, date_from, date_to)
    chart = chart_of(settings)
    created = export.created_at.astimezone(ZoneInfo(settings.company_timezone)).replace(tzinfo=None)
    header = BatchHeader(consultant_number=settings.datev_consultant_number,
                         client_number=settings.datev_client_number,
                         fiscal_year_start=fiscal_year_start(settings, date_from), date_from=date_from,
                         date_to=date_to, created_at=created, account_length=settings.datev_account_length,
                         skr=chart.skr)
    try:
        rows = booking_rows(session, chart, date_from, date_to, payments,
                            {invoice_id: name for invoice_id, (name, _) in files.items()})
        csv = write_buchungsstapel(header, rows)
    except AccountingError as error:
        raise Conflict(f"the DATEV export cannot be made: {error}") from None
    stem = f"{date_from:%Y%m%d}_{date_to:%Y%m%d}"
    content = _zip(created, [(f"EXTF_Buchungsstapel_{stem}.csv", csv), *sorted(files.values())])
    export.row_count, export.document_count = len(rows), len(files)
    export.filename, export.file_sha256 = f"DATEV_{stem}.zip", store.put(content)
    session.flush()
    return export


def _document_files(session: Session, store: DocumentStore, date_from: date,
                    date_to: date) -> dict[int, tuple[str, bytes]]:
    """Per document of the period its file for the hand-over: the PDF, else the e-invoice XML."""
    files = {}
    for invoice, _, _ in issued_in(session, date_from, date_to):
        for kind in ("pdf", "xml"):
            document_id = file_of(session, invoice.id, kind)
            if document_id is not None:
                _, _, content = store.load(session, document_id)
                files[invoice.id] = (f"{invoice.number}.{kind}", content)
                break
    return files


def _zip(created: datetime, members: list[tuple[str, bytes]]) -> bytes:
    """The ZIP of these files in this order, every entry dated with the export's creation time: the
    same export gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            entry = zipfile.ZipInfo(name, date_time=created.timetuple()[:6])
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            archive.writestr(entry, content)
    return buffer.getvalue()


def list_exports(session: Session, who: Principal, page: PageRequest) -> tuple[list[DatevExport], int]:
    require_datev(who)
    return page_of(session, select(DatevExport), page, EXPORT_SORTS, DatevExport.id)


def export_file(session: Session, who: Principal, store: DocumentStore, export_id: int) -> tuple[str, bytes]:
    """(file name, the ZIP as recorded)."""
    require_datev(who)
    export = session.get(DatevExport, export_id)
    if export is None:
        raise NotFound(f"DATEV export {export_id} not found")
    return export.filename, store.get(export.file_sha256)
