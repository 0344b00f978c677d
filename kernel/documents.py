"""The content store: files kept once per SHA-256 under the data folder, the `document` row that names
one of them for a record, and the type a file's bytes show. It knows nothing of the records files
belong to: which owner types exist and who may read or attach what are business rules
(domain.documents). It sits in the kernel because the mail package keeps received mail here and the
business modules keep their files here, and the mail package may not import the business modules.

The content is written and synced before the database row commits, so a committed row always has its
file; a rolled-back upload leaves at most an unreferenced file."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.private_files import FILE_MODE, private_folder

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
    """A stored file on a record: `owner_type` and `owner_id` name the record in the words of the
    module that registered that type. `customer_id` scopes it (the customer table is named, not
    imported: the kernel still knows no business module)."""
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
    def under(cls, data_dir: Path) -> DocumentStore:
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
