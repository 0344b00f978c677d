"""What the business modules tell the mail package, registered at start-up (one MailRoutes held by the
Kontor object, filled by each module's `register`): the mail package routes and guards received mail
but keeps no contacts, leads or customers of its own, and imports no business module.

- who wrote a mail (known senders, the contacts of a customer, bounce marking): the customers module
- who may change a customer, and who may read received mail as it came in: the customers module
- who may attach a mail to a record of a type by hand: the module of that record (offers, ...)
- a new lead from the leads mailbox: the sales module
- the trace a received mail leaves on its customer's timeline: the customers module (timeline)

What is not registered is answered the safe way: nobody is a known sender (a mail goes to the
quarantine rather than to a customer), nobody is marked as bouncing, no lead is made (the leads
mailbox quarantines), and nobody passes a customer check. The routing order and its trust rules stay
in the mail package (mailers.routing): a module answers questions, it does not decide a route."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from kernel.errors import Forbidden
from kernel.principal import Principal
from mailers.inbound_models import InboundMail

# check(session, who, record_id): raises NotFound/Forbidden unless `who` may edit the record
RecordCheck = Callable[[Session, Principal, int], object]
# check(session, who, customer_id): raises NotFound/Forbidden unless `who` may change the customer
CustomerCheck = Callable[[Session, Principal, int], object]
# check(session, who, customer_id or None, open_to_staff): raises unless `who` may read received mail of that
# customer as it came in (it may carry the proof that answers for the customer)
MailReaderCheck = Callable[[Session, Principal, int | None, bool], None]
# take(session, who, mail): the id of the lead made from a mail of an unknown sender to the leads mailbox
LeadTaker = Callable[[Session, Principal, InboundMail], int]
# write(session, customer_id, kind, actor, summary, ref_type, ref_id, **details): a trace on the customer
TraceWriter = Callable[..., object]


class Senders(Protocol):
    """Who wrote a mail, as the module that keeps the contacts knows it. Addresses are in lower case."""

    def contacts_with(self, session: Session, address: str) -> list[tuple[int, int]]:
        """(customer id, contact id) of every active contact with this address, in the order of contact ids."""

    def is_contact_of(self, session: Session, customer_id: int, address: str) -> bool:
        """Whether the address is that of a contact of the customer."""

    def mark_bouncing(self, session: Session, addresses: tuple[str, ...]) -> None:
        """Mail to these addresses came back as undeliverable (proven by the bounce: see mailers.intake)."""


class NoSenders:
    """Nobody is known: what the mail package assumes until a module registers its contacts."""

    def contacts_with(self, session: Session, address: str) -> list[tuple[int, int]]:
        return []

    def is_contact_of(self, session: Session, customer_id: int, address: str) -> bool:
        return False

    def mark_bouncing(self, session: Session, addresses: tuple[str, ...]) -> None:
        return None


class MailRoutes:
    def __init__(self):
        self._records: dict[str, RecordCheck] = {}
        self.senders: Senders = NoSenders()
        self._editable_customer: CustomerCheck | None = None
        self._mail_reader: MailReaderCheck | None = None
        self._take_lead: LeadTaker | None = None
        self._trace: TraceWriter | None = None

    # ------------------------------------------------------------------ registration
    def register_record(self, record_type: str, check: RecordCheck) -> None:
        """The record type as outbox rows name it (`record=("offer", id)`), and who may edit such a record."""
        self._records[record_type] = _once(self._records.get(record_type), check, f"the record type {record_type!r}")

    def register_senders(self, senders: Senders) -> None:
        self.senders = _once(self.senders if not isinstance(self.senders, NoSenders) else None, senders, "senders")

    def register_customers(self, editable: CustomerCheck, mail_reader: MailReaderCheck) -> None:
        self._editable_customer = _once(self._editable_customer, editable, "the customer check")
        self._mail_reader = _once(self._mail_reader, mail_reader, "the received mail reader check")

    def register_leads(self, take: LeadTaker) -> None:
        self._take_lead = _once(self._take_lead, take, "new leads")

    def register_timeline(self, write: TraceWriter) -> None:
        self._trace = _once(self._trace, write, "the timeline")

    # ------------------------------------------------------------------ use
    @property
    def takes_leads(self) -> bool:
        return self._take_lead is not None

    def new_lead(self, session: Session, who: Principal, mail: InboundMail) -> int:
        if self._take_lead is None:
            raise LookupError("no module takes leads from mail")
        return self._take_lead(session, who, mail)

    def trace(self, session: Session, customer_id: int, kind: str, actor: str, summary: str,
              ref_type: str | None = None, ref_id: int | None = None, **details) -> None:
        if self._trace is not None:
            self._trace(session, customer_id, kind, actor, summary, ref_type, ref_id, **details)

    def require_editable(self, session: Session, who: Principal, record_type: str | None, record_id: int | None,
                         customer_id: int | None) -> None:
        """Who may attach a received mail to a business record by hand: whoever may edit that record, as
        the module the record belongs to decides. Attaching to a customer needs the right to edit it."""
        check = self._records.get(record_type or "")
        if check is not None and record_id is not None:
            check(session, who, record_id)
        elif customer_id is not None:
            if self._editable_customer is None:
                raise Forbidden("no module decides who changes customers")
            self._editable_customer(session, who, customer_id)
        elif not who.has_any("manager"):
            raise Forbidden("a mail about no customer's record is routed by hand by managers only")

    def require_mail_reader(self, session: Session, who: Principal, customer_id: int | None,
                            open_to_staff: bool = False) -> None:
        """Received mail as it came in (raw, attachments) may carry the proof that answers for the customer."""
        if self._mail_reader is None:
            raise Forbidden("received mail is read as it came in by nobody: no module decides who may")
        self._mail_reader(session, who, customer_id, open_to_staff)


def _once(registered, new, what: str):
    """One module answers each question: a second answer is a wiring mistake, not a choice."""
    if registered is not None and registered != new:
        raise ValueError(f"a module answers for {what} already")
    return new
