"""The files an invoice was issued as, kept in the content store and named by `invoice_document`."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.documents import store_generated
from domain.invoicing.einvoice import make_einvoice
from domain.invoicing.issuing import EInvoiceFile, check_issuable, issue_invoice
from domain.invoicing.models import Invoice, InvoiceDocument
from domain.settings import company_today
from kernel.documents import DocumentStore


def keep_file(session: Session, store: DocumentStore, owners, invoice: Invoice, kind: str, file: EInvoiceFile) -> int:
    """Store the file once per kind (a retry finds the first) and return its document's id."""
    existing = file_of(session, invoice.id, kind)
    if existing is not None:
        return existing
    document = store_generated(session, store, owners, "invoice", invoice.id, file.filename, file.content_type,
                               file.content, invoice.issued_by or "system",
                               visible_to_customer=False)  # shown to the customer once mailed (operations.send)
    session.add(InvoiceDocument(invoice_id=invoice.id, kind=kind, document_id=document.id))
    session.flush()
    return document.id


def file_of(session: Session, invoice_id: int, kind: str) -> int | None:
    return session.scalar(select(InvoiceDocument.document_id).where(InvoiceDocument.invoice_id == invoice_id,
                                                                    InvoiceDocument.kind == kind))


def issue_with_files(session: Session, kontor, who, invoice_id: int) -> Invoice:
    """Issue the draft with Kontor's settings, today's date where the company is, its e-invoice (built
    and validated by the e-invoicing module) kept in the content store."""
    store = DocumentStore.under(kontor.settings.data_dir)

    def keep(session: Session, invoice: Invoice, file: EInvoiceFile) -> None:
        keep_file(session, store, kontor.document_owners, invoice, "xml", file)
    return issue_invoice(session, who, invoice_id, kontor.settings, company_today(kontor.settings),
                         make_einvoice=make_einvoice, keep_file=keep)


def check_with_einvoice(session: Session, who, invoice_id: int, kontor) -> None:
    """check_issuable with Kontor's settings and e-invoice builder: 422 naming what would stop the issue."""
    check_issuable(session, who, invoice_id, kontor.settings, company_today(kontor.settings),
                   make_einvoice=make_einvoice)
