"""Dunning cases and their letters.

A dunning case follows one overdue invoice through its process (bpmn/dunning.bpmn): the reminder
(Zahlungserinnerung), the first and second dunning letter (Mahnung), then the hand-over to
collection or a lawyer. A payment or credit note that settles the invoice ends it (`settled`); a
dispute pauses it (`disputed`, the task "Klärfall") until accounting resumes or stops it. An
invoice has at most one case that is not over: a partial unique index on `open_invoice_id` (set
while the case runs, cleared when it ends) makes the database refuse a second.

A letter is written once per level of a case (unique case + level): a retried step finds the letter
its first attempt wrote, with the figures it claimed, and mails nothing twice."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move

LETTER_KINDS = ("reminder", "dunning_1", "dunning_2")
OVER = ("settled", "stopped", "handed_over")

DUNNING_LIFECYCLE = Lifecycle(
    record="dunning", states=("running", "disputed", "settled", "stopped", "handed_over"), initial="running",
    transitions=(*move("running", "disputed", "dispute"), *move("disputed", "running", "resume"),
                 *move(("running", "disputed"), "settled", "settle"), *move("disputed", "stopped", "stop"),
                 *move("running", "handed_over", "hand_over")))


class Dunning(Base):
    __tablename__ = "dunning"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    # the invoice while the case runs (NULL once it is over): unique, so one running case per invoice
    open_invoice_id: Mapped[int | None] = mapped_column(unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), default=DUNNING_LIFECYCLE.initial)
    level: Mapped[int] = mapped_column(default=0)  # the last letter's level (0: none yet)
    consumer: Mapped[bool] = mapped_column(default=False)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    outcome: Mapped[str | None] = mapped_column(String(300))  # why it ended, or what the dispute is
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    lifecycle = DUNNING_LIFECYCLE


class DunningLetter(Base):
    """What one letter claimed: the open amount on its date, the default interest (from which day, at
    which rates), the fees, and the day to pay by; its PDF and mail."""
    __tablename__ = "dunning_letter"
    __table_args__ = (UniqueConstraint("dunning_id", "level", name="uq_dunning_letter_level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dunning_id: Mapped[int] = mapped_column(ForeignKey("dunning.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    level: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12))  # reminder | dunning_1 | dunning_2
    letter_date: Mapped[date]
    pay_by: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    open_amount: Mapped[Decimal]
    interest_from: Mapped[date | None]
    interest: Mapped[Decimal]
    interest_periods: Mapped[list] = mapped_column(JSON, default=list)  # [{first_day, last_day, rate, amount}]
    fee: Mapped[Decimal]  # this letter's dunning fee
    flat_fee: Mapped[Decimal]  # §288 (5) BGB, claimed once per invoice
    fees_before: Mapped[Decimal]  # fees claimed by the earlier letters and still owed
    total_claim: Mapped[Decimal]
    language: Mapped[str] = mapped_column(String(2), default="de")
    document_id: Mapped[int | None]
    outbox_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def fees_total(self) -> Decimal:
        return self.fees_before + self.fee + self.flat_fee
