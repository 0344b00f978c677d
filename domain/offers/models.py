"""Offers, their lines, approvals and the customer's answer links."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move
from kernel.module import NumberSeries

# An offer's lifecycle; domain.lifecycle.change_state is the only code that moves an offer along it.
OFFER_STATUSES = ("draft", "in_approval", "rework", "approved", "sent", "accepted", "declined", "expired",
                  "superseded", "cancelled", "deleted")
OFFER_LIFECYCLE = Lifecycle(
    record="offer", states=OFFER_STATUSES, initial="draft", transitions=(
        *move("draft", "in_approval", "submit"),
        # a change of the content voids the approvals so far and approval starts again
        *move("approved", "in_approval", "restart"),
        *move("in_approval", "rework", "reject"),
        *move("rework", "in_approval", "resubmit"),
        *move("in_approval", "approved", "approve"),  # every level approved: its PDF is rendered
        *move("approved", "sent", "send"),
        *move("sent", "accepted", "accept"),
        *move("sent", "declined", "decline"),
        *move("sent", "expired", "expire"),
        # a sent offer that is changed, or an expired one revised, gives way to its next revision
        *move(("sent", "expired"), "superseded", "revise"),
        *move(("draft", "in_approval", "rework", "approved", "sent"), "cancelled", "withdraw"),
        # a throwaway draft never submitted: the row stays (its id is never given again, so no stale
        # link, ETag or trace can reach another offer), hidden from every list and read
        *move("draft", "deleted", "delete"),
    ))
EDITABLE_STATUSES = ("draft", "rework", "in_approval", "approved")
CLOSED_STATUSES = ("accepted", "declined", "expired", "superseded", "cancelled", "deleted")

OFFER_NUMBERS = NumberSeries("offer", "OFF-{year}-", 4)


class Offer(Base):
    __tablename__ = "offer"
    __table_args__ = (UniqueConstraint("number", "revision", name="uq_offer_number_revision"),
                      Index("ix_offer_customer_status", "customer_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(30), index=True)  # OFF-2026-0012, given at first submit
    revision: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", name="fk_offer_previous"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=OFFER_LIFECYCLE.initial)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    billing_address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    delivery_address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    language: Mapped[str] = mapped_column(String(2), default="de")
    currency: Mapped[str] = mapped_column(String(3))
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_list.id"))
    payment_days: Mapped[int]
    skonto_percent: Mapped[Decimal | None]
    skonto_days: Mapped[int | None]
    delivery_terms: Mapped[str | None] = mapped_column(String(200))
    tax_treatment: Mapped[str] = mapped_column(String(20))
    header_discount_percent: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    valid_until: Mapped[date]
    intro_text: Mapped[str | None] = mapped_column(Text)
    closing_text: Mapped[str | None] = mapped_column(Text)
    # Totals of the current lines (kept by every change; the document recomputes them exactly).
    net_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    gross_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # of what the customer would see
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    approval_round: Mapped[int] = mapped_column(default=0)
    pdf_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", name="fk_offer_pdf"))
    pdf_content_hash: Mapped[str | None] = mapped_column(String(64))  # the content the PDF shows
    created_by: Mapped[str] = mapped_column(String(100))
    changed_by: Mapped[str] = mapped_column(String(100))  # last change of content: never its approver
    # everyone who wrote this revision's content or submitted it for approval (its creator, every
    # change, every submission, the revisions before): none of them approves it
    authors: Mapped[list] = mapped_column(default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # end of valid_until in the company's time zone, fixed when sent
    customer_reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer_note: Mapped[str | None] = mapped_column(String(500))  # the customer's reason, e.g. for a decline
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    lifecycle = OFFER_LIFECYCLE

    @property
    def label(self) -> str:
        """OFF-2026-0012 (revision 2 and later: OFF-2026-0012-2); a draft never submitted: its id."""
        if self.number is None:
            return f"draft {self.id}"
        return self.number if self.revision == 1 else f"{self.number}-{self.revision}"


class OfferLine(Base):
    __tablename__ = "offer_line"
    __table_args__ = (UniqueConstraint("offer_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    position: Mapped[int]
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    sku: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))  # in the offer's language, as priced
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal]
    list_price: Mapped[Decimal]  # the price list's unit price
    unit_price: Mapped[Decimal]  # after the customer's special condition, before the line discount
    price_rule: Mapped[str] = mapped_column(String(200))  # which rule gave unit_price
    discount_percent: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax_rate: Mapped[Decimal]  # effective: 0 for reverse charge and export
    unit_cost: Mapped[Decimal | None]  # from the product, for the margin; never shown to the customer
    net: Mapped[Decimal]  # quantity x unit_price less the line discount, rounded to cents


class OfferApproval(Base):
    """One decision of one approval level on one content of the offer; a change voids it."""
    __tablename__ = "offer_approval"
    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    approval_round: Mapped[int]
    level: Mapped[str] = mapped_column(String(40))
    approver_group: Mapped[str] = mapped_column(String(100))  # the level's group or, escalated, its deputy
    decision: Mapped[str] = mapped_column(String(10))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(String(1000))
    content_hash: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    human_task_id: Mapped[int | None] = mapped_column(unique=True)
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(300))


class OfferAnswerLink(Base):
    """A signed link that lets the customer accept or decline without logging in: used once, and
    never after the offer's validity ends."""
    __tablename__ = "offer_answer_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(40), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
    used_for: Mapped[str | None] = mapped_column(String(10))  # accept | decline
