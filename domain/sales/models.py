"""Leads, opportunities, their phases and project groups."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move

LEAD_STATUSES = ("new", "qualified", "disqualified", "converted")
# Qualified and disqualified are judgements that a salesperson may revise; converted is final (the
# lead lives on as a customer), and a disqualified lead is not converted without being requalified.
LEAD_LIFECYCLE = Lifecycle(
    record="lead", states=LEAD_STATUSES, initial="new", transitions=(
        *move(("new", "disqualified"), "qualified", "qualify"),
        *move(("new", "qualified"), "disqualified", "disqualify"),
        *move(("qualified", "disqualified"), "new", "reopen"),
        *move(("new", "qualified"), "converted", "convert"),
    ))
# An opportunity moves through the configurable open phases in any order (staying open), until a
# closing phase wins or loses it; no move leaves a closed one. Its state follows from its phase.
OPPORTUNITY_LIFECYCLE = Lifecycle(
    record="opportunity", states=("open", "won", "lost"), initial="open", field=None, transitions=(
        *move("open", "won", "win"),
        *move("open", "lost", "lose"),
    ))
LEAD_SOURCES = ("web_form", "email", "phone", "fair", "referral", "import", "other")


class Lead(Base):
    __tablename__ = "lead"
    __table_args__ = (Index("ix_lead_status_created", "status", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="company")  # company | person
    company_name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20), default="other")
    score: Mapped[int] = mapped_column(default=0)  # 0..100
    status: Mapped[str] = mapped_column(String(15), default=LEAD_LIFECYCLE.initial)
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    message: Mapped[str | None] = mapped_column(Text)  # what the lead wrote
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))  # once converted
    disqualified_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # optimistic locking: a change names the version it read
    __mapper_args__ = {"version_id_col": version}
    lifecycle = LEAD_LIFECYCLE


class OpportunityPhase(Base):
    """A phase of the sales pipeline, configurable: order, default probability, maximum days in it."""
    __tablename__ = "opportunity_phase"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    probability: Mapped[int]  # percent, the default for opportunities entering the phase
    max_days: Mapped[int | None]  # longer in the phase: overdue
    outcome: Mapped[str | None] = mapped_column(String(4))  # None: open phase; "won" | "lost": closing phases
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OpportunityGroup(Base):
    """A project group: opportunities that are alternatives of each other (at most one is won)."""
    __tablename__ = "opportunity_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Opportunity(Base):
    __tablename__ = "opportunity"
    __table_args__ = (Index("ix_opportunity_phase_owner", "phase_id", "owner"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity_group.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    phase_id: Mapped[int] = mapped_column(ForeignKey("opportunity_phase.id"))
    phase_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    probability: Mapped[int]  # percent
    expected_close: Mapped[date | None]
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    lost_reason: Mapped[str | None] = mapped_column(String(300))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    lifecycle = OPPORTUNITY_LIFECYCLE

