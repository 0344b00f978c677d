"""Spreadsheet import and export of customers, contacts and products (thin: read the upload, call the domain)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal, NewType

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel

from api.deps import CurrentUser, KontorDep, SessionDep
from api.downloads import content_disposition
from domain.imports import MAX_BYTES, MEDIA_TYPES, export_table, import_table

router = APIRouter(prefix="/imports", tags=["customers"])
exports_router = APIRouter(prefix="/exports", tags=["customers"])
Kind = Literal["customers", "contacts", "products"]
# FastAPI reads a missing plain-bool form field as an unchecked checkbox (False); a dry run must be the
# default, so the flag is a bool of another name.
DryRun = NewType("DryRun", bool)


class RowErrorOut(BaseModel):
    row: int
    field: str
    message: str


class RowDuplicateOut(BaseModel):
    row: int
    customer_number: str | None
    other_row: int | None
    name: str
    score: int
    reasons: list[str]


class ImportReportOut(BaseModel):
    kind: Kind
    dry_run: bool
    committed: bool
    rows_total: int
    rows_ok: int
    errors: list[RowErrorOut]
    duplicates: list[RowDuplicateOut]


@router.post("", response_model=ImportReportOut, responses={201: {"model": ImportReportOut,
                                                                   "description": "imported (dry_run=false)"}},
             summary="Import customers, contacts or products from an .xlsx or .csv file (multipart): a dry run "
                     "(200) checks and reports every row; a real import (201) writes all rows or none")
def import_(session: SessionDep, user: CurrentUser, kontor: KontorDep, response: Response,
            kind: Annotated[Kind, Form()],
            file: Annotated[UploadFile, File(description=f".xlsx (first sheet) or .csv, at most "
                                                         f"{MAX_BYTES // (1024 * 1024)} MB; header in row 1")],
            dry_run: Annotated[DryRun, Form(description="false: import for real")] = DryRun(True)):
    content = file.file.read(MAX_BYTES + 1)
    report = import_table(session, user, kind, file.filename or "(no name)", content, dry_run,
                          kontor.settings.company_country)
    response.status_code = 200 if dry_run else 201
    return ImportReportOut(**asdict(report))


@exports_router.get("/{kind}.{fmt}", response_class=Response,
                    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}}},
                    summary="Download customers, contacts or products in the import's columns, e.g. GET "
                            "/exports/customers.xlsx or /exports/products.csv (';', UTF-8 with BOM)")
def export(kind: Kind, fmt: Literal["xlsx", "csv"], session: SessionDep, user: CurrentUser):
    filename, media_type, content = export_table(session, user, kind, fmt)
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": content_disposition(filename)})
