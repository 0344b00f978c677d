"""The customer's timeline: traces of what happened (offer sent, reply received, invoice issued,
payment, phase change, merge …), activities (calls, meetings, tasks, milestones) and notes."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.customers.access import readable_customer, require_staff
from kernel import formatting
from kernel.clock import utcnow
from kernel.db import Base
from kernel.errors import Forbidden, NotFound
from kernel.listing import PageRequest, page_of, sorted_page
from kernel.principal import Principal

ACTIVITY_KINDS = ("call", "meeting", "task", "milestone")
# What the customer's own portal users see of their timeline: what happened between them and the
# company, as each module marks its trace kinds (kernel.module.Module.customer_trace_kinds; set at
# start-up). Everything else (approvals and their reasons, rules, notes, opportunities, activities,
# merges, internal mail handling) is internal, including every kind added later until it is marked.
_shown_to_customers: frozenset[str] = frozenset()


def show_to_customers(kinds) -> None:
    global _shown_to_customers
    _shown_to_customers = frozenset(kinds)


def customer_trace_kinds() -> frozenset[str]:
    return _shown_to_customers


# A trace is stored as its kind and parameters (details["params"]) beside an English summary; each
# reader reads it in their own language, from the texts the modules declare per kind
# (kernel.module.Module.trace_texts; set at start-up). A trace without parameters (older ones, and
# kinds whose text is the user's own, such as notes) reads as its stored summary.
_texts: dict[str, dict[str, str]] = {}
# words a parameter may name ({"word": "link"}), per language
WORDS = {
    "de": {"link": "über den Link", "mail": "per E-Mail", "salesperson": "durch den Vertrieb",
           "team_lead": "Teamleitung", "sales_manager": "Vertriebsleitung", "managing_director": "Geschäftsführung",
           "none": "keine Freigabe nötig", "lead": "Interessent", "active": "aktiv", "passive": "passiv",
           "no_reason": "ohne Angabe eines Grundes"},
    "en": {"link": "by link", "mail": "by mail", "salesperson": "by the salesperson", "team_lead": "team lead",
           "sales_manager": "sales manager", "managing_director": "managing director", "none": "no approval needed",
           "lead": "lead", "active": "active", "passive": "passive", "no_reason": "declined by the customer"},
}


def set_trace_texts(texts) -> None:
    """(kind, German, English) triples of every module."""
    global _texts
    _texts = {kind: {"de": de, "en": en} for kind, de, en in texts}


def money_param(amount, currency: str) -> dict:
    """An amount as a trace parameter: rendered by currency and the reader's locale."""
    return {"amount": str(Decimal(amount)), "currency": currency}


def word_param(word: str | None) -> dict:
    """A word of WORDS (a channel, an approval level, a status) as a trace parameter."""
    return {"word": word or ""}


def _shown(value, lang: str) -> str:
    if isinstance(value, dict):
        if "amount" in value:
            return formatting.money(value["amount"], value["currency"], lang)
        if "date" in value:
            return formatting.day(date.fromisoformat(value["date"]), lang)
        if "word" in value:
            return WORDS.get(lang, WORDS["en"]).get(value["word"], value["word"].replace("_", " "))
    return "" if value is None else str(value)


def summary_in(trace: Trace, lang: str) -> str:
    """The trace as a reader of this language reads it; its stored summary where no text or no
    parameters exist, or they do not fit."""
    params = (trace.details or {}).get("params")
    kind = f"{trace.kind}.{params['variant']}" if isinstance(params, dict) and params.get("variant") else trace.kind
    text = _texts.get(kind, {}).get(lang)
    if not isinstance(params, dict) or text is None:
        return trace.summary
    try:
        return text.format(**{name: _shown(value, lang) for name, value in params.items()})
    except (KeyError, IndexError, ValueError, TypeError, ArithmeticError):
        return trace.summary


class Trace(Base):
    __tablename__ = "customer_trace"
    __table_args__ = (Index("ix_trace_customer_at", "customer_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(500))
    ref_type: Mapped[str | None] = mapped_column(String(40))  # e.g. "opportunity", "offer", "invoice"
    ref_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(default=dict)


class Activity(Base):
    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_owner_due", "owner", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    owner: Mapped[str] = mapped_column(String(100))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id"))
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def record_trace(session: Session, customer_id: int, kind: str, actor: str, summary: str,
                 ref_type: str | None = None, ref_id: int | None = None, **details) -> Trace:
    """Called by the handler whose change it records, in the same transaction. `params` among the
    details fill the kind's texts for each reader (summary_in); `summary` is the English text kept
    with it."""
    trace = Trace(customer_id=customer_id, kind=kind, actor=actor, summary=summary[:500], ref_type=ref_type,
                  ref_id=ref_id, details=details)
    session.add(trace)
    return trace


def traces(session: Session, who: Principal, customer_id: int, kinds: list[str] | None = None,
           limit: int = 50, offset: int = 0) -> tuple[list[Trace], int]:
    readable_customer(session, who, customer_id)
    statement = select(Trace).where(Trace.customer_id == customer_id)
    if who.is_portal:
        statement = statement.where(Trace.kind.in_(_shown_to_customers))
    if kinds:
        statement = statement.where(Trace.kind.in_(kinds))
    return sorted_page(session, statement, "-at", {"at": Trace.at}, Trace.id, limit, offset)


def add_note(session: Session, who: Principal, customer_id: int, text: str) -> Note:
    readable_customer(session, who, customer_id)  # notes: every salesperson may add one
    _require_staff(who)
    note = Note(customer_id=customer_id, text=text, author=who.username)
    session.add(note)
    session.flush()
    record_trace(session, customer_id, "note_added", who.username, text[:120], "note", note.id)
    return note


NOTE_SORTS = {"id": Note.id, "created_at": Note.created_at}
ACTIVITY_SORTS = {"due_at": Activity.due_at, "created_at": Activity.created_at}


def notes(session: Session, who: Principal, customer_id: int, page: PageRequest) -> tuple[list[Note], int]:
    readable_customer(session, who, customer_id)
    _require_staff(who)
    return page_of(session, select(Note).where(Note.customer_id == customer_id), page, NOTE_SORTS, Note.id)


def add_activity(session: Session, who: Principal, data: dict) -> Activity:
    _require_staff(who)
    readable_customer(session, who, data["customer_id"])
    activity = Activity(**{"owner": who.username, **{k: v for k, v in data.items() if v is not None}})
    session.add(activity)
    session.flush()
    return activity


def complete_activity(session: Session, who: Principal, activity_id: int) -> Activity:
    activity = get_activity(session, who, activity_id)
    if activity.owner != who.username and not who.has_any("manager"):
        raise Forbidden(f"the activity belongs to {activity.owner}")
    if activity.done_at is None:
        activity.done_at = utcnow()
        record_trace(session, activity.customer_id, f"{activity.kind}_done", who.username, activity.subject,
                     "activity", activity.id)
    session.flush()
    return activity


def get_activity(session: Session, who: Principal, activity_id: int) -> Activity:
    _require_staff(who)
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(f"activity {activity_id} not found")
    readable_customer(session, who, activity.customer_id, ("activity", activity_id))
    return activity


def list_activities(session: Session, who: Principal, customer_id: int | None = None, owner: str | None = None,
                    open_only: bool = True, due_before: datetime | None = None, sort: str = "due_at",
                    limit: int = 50, offset: int = 0) -> tuple[list[Activity], int]:
    _require_staff(who)
    statement = select(Activity)
    if customer_id is not None:
        statement = statement.where(Activity.customer_id == customer_id)
    if owner:
        statement = statement.where(Activity.owner == owner)
    if open_only:
        statement = statement.where(Activity.done_at.is_(None))
    if due_before:
        statement = statement.where(Activity.due_at < due_before)
    return sorted_page(session, statement, sort, ACTIVITY_SORTS, Activity.id, limit, offset)


def _require_staff(who: Principal) -> None:
    require_staff(who, "activities and notes")

