"""DATEV exports handed to the tax advisor: the period, who made it and when, how many bookings, and
the ZIP (the EXTF Buchungsstapel and the invoices' files) kept in the content store, so that a
download later is the very file that was handed over."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base


class DatevExport(Base):
    __tablename__ = "datev_export"
    id: Mapped[int] = mapped_column(primary_key=True)
    date_from: Mapped[date]
    date_to: Mapped[date]
    row_count: Mapped[int]
    document_count: Mapped[int]  # invoice and credit-note files in the ZIP
    filename: Mapped[str] = mapped_column(String(100))
    file_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
