"""Documents attached to records: upload (multipart), list, metadata, download."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentUser, KontorDep, SessionDep
from api.downloads import content_disposition
from api.params import OptionalId, RecordId, paging
from api.schemas import Page, page_out
from domain import documents

router = APIRouter(prefix="/documents", tags=["customers"])
DocumentPage = paging("-uploaded_at", *documents.DOCUMENT_SORTS)
OwnerType = Literal["customer", "contact", "opportunity", "lead", "product", "activity"]
# what documents are listed by: also the attachments of received mail, which nobody uploads
ListedOwnerType = Literal["customer", "contact", "opportunity", "lead", "product", "activity", "inbound_mail"]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    owner_type: str
    owner_id: int
    customer_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    visible_to_customer: bool
    uploaded_by: str
    uploaded_at: datetime


def store(kontor) -> documents.DocumentStore:
    return documents.DocumentStore.under(kontor.settings.data_dir)


@router.post("", response_model=DocumentOut, status_code=201,
             summary="Attach a file to a record (type checked against the content, size limited)")
async def upload(session: SessionDep, user: CurrentUser, kontor: KontorDep, file: Annotated[UploadFile, File()],
                 owner_type: Annotated[OwnerType, Form()],
                 owner_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
                 visible_to_customer: Annotated[bool, Form()] = False):
    limit = kontor.settings.document_max_bytes
    content = await file.read(limit + 1)  # never more than one byte past the limit in memory
    return documents.attach(session, store(kontor), kontor.document_owners, user, owner_type, owner_id,
                            file.filename or "", file.content_type, content, limit, visible_to_customer)


@router.get("", response_model=Page[DocumentOut], summary="Documents of a record or of a customer, newest first")
def list_(session: SessionDep, user: CurrentUser, page: DocumentPage,
          owner_type: ListedOwnerType | None = None, owner_id: OptionalId = None, customer_id: OptionalId = None):
    return page_out(DocumentOut, documents.documents_of(session, user, page, owner_type, owner_id, customer_id), page)


@router.get("/{document_id}", response_model=DocumentOut)
def get(document_id: RecordId, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    return documents.readable_document(session, kontor.document_owners, user, document_id)


@router.get("/{document_id}/content", summary="The file, as an attachment", response_class=Response)
def content(document_id: RecordId, session: SessionDep, user: CurrentUser, kontor: KontorDep):
    document = documents.readable_document(session, kontor.document_owners, user, document_id)
    body = store(kontor).get(document.sha256)
    return Response(body, media_type=document.content_type, headers={
        "Content-Disposition": content_disposition(document.filename), "X-Content-Type-Options": "nosniff",
        "ETag": f'"{document.sha256}"'})
