"""Documents attached to records (customers, contacts, opportunities, leads, products, activities,
received mail, offers, orders): which records take documents, who attaches them and who reads them.

The files themselves, the `document` row and the type sniffing are the kernel's content store
(kernel.documents). Which records take documents is not listed here: each business module registers
its owner types at start-up (DocumentOwners, one held by the Kontor object), so a new module brings
its own without this module importing it. The type is taken from the content, not from the client's
word: a file whose bytes do not match its declared type or name is refused."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.access import editable_customer, readable_customer, require_staff
from kernel.documents import ALLOWED_TYPES, Document, DocumentStore, sniff_type
from kernel.errors import NotFound, ValidationFailed
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal

# check(session, who, document): raises unless `who` may read this document beyond the customer's rules
ReadCheck = Callable[[Session, Principal, Document], None]


@dataclass(frozen=True)
class OwnerType:
    model: type | None  # the record's model (its customer_id scopes the file); None: the customer itself
    read_check: ReadCheck | None = None


class DocumentOwners:
    """The records that take documents, by owner type, as the business modules registered them."""

    def __init__(self):
        self._types: dict[str, OwnerType] = {}

    def register(self, owner_type: str, model: type | None, read_check: ReadCheck | None = None) -> None:
        """`model` None: the owner is the customer itself. `read_check`: a rule of this type's documents
        on top of the customer's (received mail may carry proof, for example)."""
        known = self._types.get(owner_type)
        if known is not None and known != OwnerType(model, read_check):
            raise ValueError(f"the document owner type {owner_type!r} is registered already")
        self._types[owner_type] = OwnerType(model, read_check)

    def customer_id(self, session: Session, owner_type: str, owner_id: int) -> int | None:
        """The customer a record belongs to (None: leads and products, which belong to no customer)."""
        known = self._types.get(owner_type)
        if known is None:
            raise ValidationFailed("unknown record type", [{"field": "owner_type",
                                                            "message": f"one of {', '.join(self._types)}"}])
        if known.model is None:
            return owner_id
        record = session.get(known.model, owner_id)
        if record is None:
            raise NotFound(f"{owner_type} {owner_id} not found")
        return getattr(record, "customer_id", None)

    def check_reading(self, session: Session, who: Principal, document: Document) -> None:
        known = self._types.get(document.owner_type)
        if known is None:  # a file of a type no module registers (any more): nobody reads it as if it existed
            raise NotFound(f"document {document.id} not found")
        if known.read_check is not None:
            known.read_check(session, who, document)


def attach(session: Session, store: DocumentStore, owners: DocumentOwners, who: Principal, owner_type: str,
           owner_id: int, filename: str, declared_type: str | None, content: bytes, max_bytes: int,
           visible_to_customer: bool = False) -> Document:
    """A file on a record. On a customer's record it is a change of that customer's records (it may be
    shown to the customer): only who may change the customer attaches it."""
    require_staff(who, "uploads")
    customer_id = owners.customer_id(session, owner_type, owner_id)
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


def store_generated(session: Session, store: DocumentStore, owners: DocumentOwners, owner_type: str, owner_id: int,
                    filename: str, content_type: str, content: bytes, made_by: str,
                    visible_to_customer: bool = True) -> Document:
    """A document Kontor made itself (an offer's PDF): stored like an upload, without the upload checks."""
    digest = store.put(content)
    document = Document(owner_type=owner_type, owner_id=owner_id,
                        customer_id=owners.customer_id(session, owner_type, owner_id), filename=filename,
                        content_type=content_type, size=len(content), sha256=digest,
                        visible_to_customer=visible_to_customer, uploaded_by=made_by)
    session.add(document)
    session.flush()
    return document


def readable_document(session: Session, owners: DocumentOwners, who: Principal, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"document {document_id} not found")
    if document.customer_id is not None:
        readable_customer(session, who, document.customer_id, ("document", document_id))  # as if it did not exist
    if who.is_portal and not (document.visible_to_customer and document.customer_id == who.customer_id):
        raise NotFound(f"document {document_id} not found")
    if not who.is_portal:
        require_staff(who, "documents")
    owners.check_reading(session, who, document)
    return document


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
