"""SEPA direct debit mandates and the runs that collect invoices under them.

A mandate is the customer's signed permission to collect from one account (reference, signing date,
debtor, IBAN); it is CORE (consumers and businesses) or B2B (businesses only, confirmed to the
debtor's bank). Its first collection is sent as FRST, every later one as RCUR: `first_run_id`
remembers the run that used it first. A revoked mandate collects nothing more; its row stays, as
the runs that used it name it.

A direct debit run is one pain.008 file for one collection date: its items say which invoice was
collected under which mandate, for how much, with which end-to-end id (the invoice number, so the
bank statement and a returned debit find the invoice again) and sequence type. An invoice is
collected by one run only: the unique `invoice_id` of the items makes the database refuse a second."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move

MANDATE_SCHEMES = ("CORE", "B2B")
MANDATE_STATES = ("active", "revoked")


# A mandate collects until it is revoked; a revoked one stays on record (runs made before name it).
MANDATE_LIFECYCLE = Lifecycle(record="mandate", states=("active", "revoked"), initial="active",
                              transitions=(*move("active", "revoked", "revoke"),))


class Mandate(Base):
    __tablename__ = "direct_debit_mandate"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    reference: Mapped[str] = mapped_column(String(35), unique=True)  # Mandatsreferenz
    signed_on: Mapped[date]
    debtor_name: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(34))  # compact, checked
    bic: Mapped[str | None] = mapped_column(String(11))
    scheme: Mapped[str] = mapped_column(String(4), default="CORE")
    status: Mapped[str] = mapped_column(String(10), default=MANDATE_LIFECYCLE.initial)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("direct_debit_run.id"))  # FRST there, RCUR after
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    lifecycle = MANDATE_LIFECYCLE


class DirectDebitRun(Base):
    """One pain.008 file: its collection date, its sums, and the file in the content store (sha256)."""
    __tablename__ = "direct_debit_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    collection_date: Mapped[date]
    scheme: Mapped[str] = mapped_column(String(4), default="CORE")
    item_count: Mapped[int]
    total: Mapped[Decimal]
    filename: Mapped[str] = mapped_column(String(100))
    file_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class DirectDebitItem(Base):
    """One invoice collected in a run: never in two runs (unique invoice)."""
    __tablename__ = "direct_debit_item"
    __table_args__ = (UniqueConstraint("invoice_id", name="uq_direct_debit_item_invoice"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("direct_debit_run.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    mandate_id: Mapped[int] = mapped_column(ForeignKey("direct_debit_mandate.id"), index=True)
    amount: Mapped[Decimal]
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    sequence_type: Mapped[str] = mapped_column(String(4))  # FRST | RCUR
