"""Documents attached to records (customers, contacts, opportunities, leads, products, activities).

The content is stored once per SHA-256 under the data folder (written and synced before the
database row commits, so a committed row always has its file; a rolled-back upload leaves at most
an unreferenced file). The type is taken from the content, not from the client's word: a file
whose bytes do not match its declared type or name is refused."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Boolean, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.catalog.models import Product
from domain.customers.access import (editable_customer, readable_customer, require_received_mail_reader,
                                     require_staff)
from domain.customers.models import Contact
from domain.customers.timeline import Activity
from kernel.listing import PageRequest, page_of
from mailers.inbound_models import InboundMail
from domain.offers.models import Offer
from domain.orders.models import Order
from domain.sales.models import Lead, Opportunity
from kernel.principal import Principal
from kernel.db import Base
from kernel.clock import utcnow
from kernel.private_files import FILE_MODE, private_folder
from kernel.errors import NotFound, ValidationFailed

OWNER_TYPES = {"customer": None, "contact": Contact, "opportunity": Opportunity, "lead": Lead, "product": Product,
               "activity": Activity, "inbound_mail": InboundMail, "offer": Offer, "order": Order}
# content type -> file name endings it may have
ALLOWED_TYPES = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "text/plain": (".txt", ".log"),
    "text/csv": (".csv",),
    "message/rfc822": (".eml",),
}


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (Index("ix_document_owner", "owner_type", "owner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)  # for scoping
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    visible_to_customer: Mapped[bool] = mapped_column(Boolean, default=False)  # portal users may read it
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass
class DocumentStore:
    """Content-addressed files: <root>/<first two hex digits>/<sha256>."""
    root: Path

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if not target.exists():
            private_folder(target.parent)  # the store and its folders 0700, its files 0600
            temporary = target.with_suffix(f".{os.getpid()}.part")
            with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)  # atomic: readers never see half a file
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    @classmethod
    def under(cls, data_dir: Path) -> "DocumentStore":
        """The store of a Kontor installation: documents/ in its data folder."""
        return cls(data_dir / "documents")

    def load(self, session: Session, document_id: int) -> tuple[str, str, bytes]:
        """(filename, content type, content) of a stored document; KeyError if there is none."""
        document = session.get(Document, document_id)
        if document is None:
            raise KeyError(f"document {document_id}")
        return document.filename, document.content_type, self.get(document.sha256)


def sniff_type(content: bytes, filename: str) -> str | None:
    """The content type the bytes show (ZIP-based office files and text by their name as well)."""
    name = filename.lower()
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content.startswith(b"PK\x03\x04"):
        for content_type in ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
            if name.endswith(ALLOWED_TYPES[content_type]):
                return content_type
        return None
    if b"\x00" in content[:8192]:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if name.endswith(".eml") and any(h in text[:4096].lower() for h in ("\nfrom:", "\nsubject:", "from:")):
        return "message/rfc822"
    return "text/csv" if name.endswith(".csv") else "text/plain"


def owner_customer_id(session: Session, owner_type: str, owner_id: int) -> int | None:
    """The customer a record belongs to (None: leads and products, which belong to no customer)."""
    if owner_type not in OWNER_TYPES:
        raise ValidationFailed("unknown record type", [{"field": "owner_type",
                                                        "message": f"one of {', '.join(OWNER_TYPES)}"}])
    if owner_type == "customer":
        return owner_id
    record = session.get(OWNER_TYPES[owner_type], owner_id)
    if record is None:
        raise NotFound(f"{owner_type} {owner_id} not found")
    return getattr(record, "customer_id", None)


def attach(session: Session, store: DocumentStore, who: Principal, owner_type: str, owner_id: int, filename: str,
           declared_type: str | None, content: bytes, max_bytes: int, visible_to_customer: bool = False) -> Document:
    """A file on a record. On a customer's record it is a change of that customer's records (it may be
    shown to the customer): only who may change the customer attaches it."""
    require_staff(who, "uploads")
    customer_id = owner_customer_id(session, owner_type, owner_id)
    if customer_id is not None:
        editable_customer(session, who, customer_id)
    filename = Path(filename or "").name.strip()[:255]
    errors = []
    if not filename:
        errors.append({"field": "file", "message": "the file needs a name"})
    if not content:
        errors.append({"field": "file", "message": "the file is empty"})
    elif len(content) > max_bytes:
        errors.append({"field": "file", "message": f"larger than {max_bytes // (1024 * 1024)} MB"})
    sniffed = sniff_type(content, filename) if content and not errors else None
    if not errors:
        declared = (declared_type or "").split(";")[0].strip().lower()
        if sniffed is None or not filename.lower().endswith(ALLOWED_TYPES[sniffed]):
            errors.append({"field": "file", "message": "not an allowed type (PDF, PNG, JPEG, GIF, DOCX, XLSX, text, "
                                                       "CSV, e-mail), or the name does not fit the content"})
        elif declared and declared not in (sniffed, "application/octet-stream"):
            errors.append({"field": "file", "message": f"declared as {declared}, but the content is {sniffed}"})
    if errors:
        raise ValidationFailed("the document was refused", errors)
    digest = store.put(content)
    document = Document(owner_type=owner_type, owner_id=owner_id, customer_id=customer_id, filename=filename,
                        content_type=sniffed, size=len(content), sha256=digest,
                        visible_to_customer=visible_to_customer, uploaded_by=who.username)
    session.add(document)
    session.flush()
    return document


def store_generated(session: Session, store: DocumentStore, owner_type: str, owner_id: int, filename: str,
                    content_type: str, content: bytes, made_by: str, visible_to_customer: bool = True) -> Document:
    """A document Kontor made itself (an offer's PDF): stored like an upload, without the upload checks."""
    digest = store.put(content)
    document = Document(owner_type=owner_type, owner_id=owner_id,
                        customer_id=owner_customer_id(session, owner_type, owner_id), filename=filename,
                        content_type=content_type, size=len(content), sha256=digest,
                        visible_to_customer=visible_to_customer, uploaded_by=made_by)
    session.add(document)
    session.flush()
    return document


def readable_document(session: Session, who: Principal, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"document {document_id} not found")
    if document.customer_id is not None:
        readable_customer(session, who, document.customer_id, ("document", document_id))  # as if it did not exist
    if who.is_portal and not (document.visible_to_customer and document.customer_id == who.customer_id):
        raise NotFound(f"document {document_id} not found")
    if not who.is_portal:
        require_staff(who, "documents")
    if document.owner_type == "inbound_mail":  # received mail as it came in: it may carry proof
        require_received_mail_reader(session, who, document.customer_id, open_to_staff=_of_quarantined_stranger(
            session, document.owner_id))
    return document


def _of_quarantined_stranger(session: Session, inbound_id: int) -> bool:
    mail = session.get(InboundMail, inbound_id)
    return mail is not None and mail.carries_no_proof


DOCUMENT_SORTS = {"id": Document.id, "uploaded_at": Document.uploaded_at, "filename": Document.filename,
                  "size": Document.size, "content_type": Document.content_type}


def documents_of(session: Session, who: Principal, page: PageRequest, owner_type: str | None = None,
                 owner_id: int | None = None, customer_id: int | None = None) -> tuple[list[Document], int]:
    if not who.is_portal:
        require_staff(who, "documents")
    statement = select(Document)
    if who.is_portal:
        statement = statement.where(Document.customer_id == who.customer_id, Document.visible_to_customer.is_(True))
    if customer_id is not None:
        statement = statement.where(Document.customer_id == customer_id)
    if owner_type is not None:
        statement = statement.where(Document.owner_type == owner_type)
    if owner_id is not None:
        statement = statement.where(Document.owner_id == owner_id)
    return page_of(session, statement, page, DOCUMENT_SORTS, Document.id)
