"""Invoices and credit notes: drafts from deliveries, changes of drafts, issue, credit notes, the files."""
from __future__ import annotations

import hashlib
from functools import partial

from fastapi import APIRouter, Response

from api.deps import CurrentUser, KontorDep, RuntimeDep, SessionDep
from api.downloads import content_disposition
from api.invoice_schemas import (
    DRAFT_NOT_NULL,
    CreditNoteIn,
    DraftPatch,
    DraftRequest,
    InvoiceKind,
    InvoiceOut,
    InvoiceStatus,
    InvoiceSummary,
)
from api.offer_schemas import VersionIn
from api.params import OptionalId, RecordId, paging
from api.schemas import Page, page_out, patch_changes
from api.versioning import set_etag, versioned
from domain.invoicing import commands, credit_notes, drafts, process
from domain.invoicing.access import readable_invoice
from domain.invoicing.files import check_with_einvoice, file_of
from domain.invoicing.issuing import lines_of
from domain.invoicing.queries import InvoiceFilter, list_invoices
from domain.settings import company_today
from kernel.documents import DocumentStore
from kernel.errors import NotFound

router = APIRouter(prefix="/invoices", tags=["invoices"])
InvoicePrecondition = versioned("invoice", "invoice_id")
ActionPrecondition = versioned("invoice", "invoice_id", required=False)
InvoicePage = paging("-created_at", "id", "number", "issue_date", "due_date", "gross_total", "created_at")


INTERNAL = {"created_by": None, "issued_by": None, "released_by": None, "instance_id": None, "manual_prices": None}


def invoice_out(session, invoice, portal: bool = False) -> InvoiceOut:
    """The invoice; for a portal user without who handled it inside the company and how."""
    out = InvoiceOut.model_validate({**{c.key: getattr(invoice, c.key) for c in invoice.__table__.columns},
                                     "lines": lines_of(session, invoice.id)}, from_attributes=True)
    if not portal:
        return out
    return out.model_copy(update={**INTERNAL, "lines": [line.model_copy(update={"price_changed": None})
                                                         for line in out.lines]})


@router.post("", response_model=list[InvoiceOut], status_code=201,
             summary="Draft invoices from what an order (or every order of a customer) delivered and no invoice "
                     "holds yet")
def draft(body: DraftRequest, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    made = drafts.draft_invoices(session, user, company_today(kontor.settings), customer_id=body.customer_id,
                                 order_id=body.order_id)
    return [invoice_out(session, invoice) for invoice in made]



@router.get("", response_model=Page[InvoiceSummary], summary="Invoices and credit notes: filter, sort, page")
def list_(session: SessionDep, user: CurrentUser, page: InvoicePage, customer_id: OptionalId = None,
          order_id: OptionalId = None, status: InvoiceStatus | None = None, kind: InvoiceKind | None = None):
    f = InvoiceFilter(customer_id=customer_id, order_id=order_id, status=status, kind=kind)
    return page_out(InvoiceSummary, list_invoices(session, user, f, page), page)


@router.get("/{invoice_id}", response_model=InvoiceOut, summary="The invoice (its ETag in the header)")
def get(invoice_id: RecordId, session: SessionDep, user: CurrentUser, response: Response):
    return invoice_out(session, set_etag(response, "invoice", readable_invoice(session, user, invoice_id)),
                       portal=user.is_portal)


@router.patch("/{invoice_id}", response_model=InvoiceOut,
              summary="Change a draft (send `version` or If-Match); an issued invoice never changes")
def patch(invoice_id: RecordId, body: DraftPatch, session: SessionDep, user: CurrentUser,
          precondition: InvoicePrecondition, response: Response):
    changes = patch_changes(body, DRAFT_NOT_NULL)
    version = precondition.expected(changes.pop("version", None))
    if body.lines is not None:
        changes["lines"] = [line.model_dump(exclude_unset=True) for line in body.lines]
    invoice = commands.edit_draft(session, user, invoice_id, changes, version)
    return invoice_out(session, set_etag(response, "invoice", invoice))


@router.delete("/{invoice_id}", status_code=204, response_class=Response,
               summary="Delete a draft (it has no number yet); an issued invoice is corrected by a credit note")
def delete(invoice_id: RecordId, session: SessionDep, user: CurrentUser, precondition: ActionPrecondition):
    commands.delete_draft(session, user, invoice_id, precondition.expected(None))
    return Response(status_code=204)


@router.post("/{invoice_id}/issue", response_model=InvoiceOut, status_code=202,
             summary="Release the draft for issue (202): its process decides whether another person approves it "
                     "first, then issues it (number, sums, dates and parties fixed, e-invoice validated), renders "
                     "and mails it. A released or issued invoice is answered as it is (200)")
def issue(invoice_id: RecordId, body: VersionIn, session: SessionDep, runtime: RuntimeDep, kontor: KontorDep,
          user: CurrentUser,
          precondition: ActionPrecondition, response: Response):
    version = precondition.expected(body.version)
    was = readable_invoice(session, user, invoice_id).status
    invoice = process.release(session, runtime, user, invoice_id, version,
                              partial(check_with_einvoice, kontor=kontor))
    if was != "draft":
        response.status_code = 200
    return invoice_out(session, set_etag(response, "invoice", invoice))


@router.post("/{invoice_id}/credit-notes", response_model=InvoiceOut, status_code=201,
             summary="A draft credit note for the issued invoice (all of it or some lines); issue it like an invoice")
def credit_note(invoice_id: RecordId, body: CreditNoteIn, session: SessionDep, user: CurrentUser):
    lines = [line.model_dump() for line in body.lines] if body.lines is not None else None
    note = credit_notes.draft_credit_note(session, user, invoice_id, body.reason, lines, body.reopens_delivery)
    return invoice_out(session, note)


@router.get("/{invoice_id}/xml", response_class=Response, responses={200: {"content": {"application/xml": {}}}},
            summary="The e-invoice XML the invoice was issued with (404 for a draft)")
def xml(invoice_id: RecordId, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    return _file(session, kontor, user, invoice_id, "xml")


@router.get("/{invoice_id}/pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}},
            summary="The invoice as PDF/A-3 with its e-invoice inside (404 before it is rendered)")
def pdf(invoice_id: RecordId, session: SessionDep, kontor: KontorDep, user: CurrentUser):
    return _file(session, kontor, user, invoice_id, "pdf")


def _file(session, kontor, user, invoice_id: int, kind: str) -> Response:
    invoice = readable_invoice(session, user, invoice_id)
    document_id = file_of(session, invoice.id, kind)
    if document_id is None:
        raise NotFound(f"invoice {invoice.label} has no {kind.upper()} yet")
    filename, content_type, content = DocumentStore.under(kontor.settings.data_dir).load(session, document_id)
    return Response(content, media_type=content_type,
                    headers={"Content-Disposition": content_disposition(filename, "inline"),
                             "X-Content-SHA256": hashlib.sha256(content).hexdigest()})
