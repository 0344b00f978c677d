"""Received mail for people: the list (quarantine first of all), one message, and routing a message
by hand, which goes through the same steps as the automatic routing (trace, BPMN message).

These stay in the mail package: they read and change the mail package's own rows and reuse its
routing steps. What depends on customers (who may change one, who may read a customer's mail as it
came in) the customers module answers through MailRoutes; received mail is for staff in any case."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.documents import DocumentStore
from kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kernel.listing import PageRequest, page_of
from kernel.principal import Principal
from mailers.inbound_models import InboundMail
from mailers.intake import apply_route
from mailers.outbox import OutboxMail
from mailers.routes import MailRoutes
from mailers.routing import manual
from runtime.runtime import ProcessRuntime

INBOUND_SORTS = {"id": InboundMail.id, "received_at": InboundMail.received_at, "sender": InboundMail.sender,
                 "subject": InboundMail.subject}


def _require_staff(who: Principal) -> None:
    if not who.is_staff:
        raise Forbidden("received mails are for staff")


def list_inbound(session: Session, who: Principal, page: PageRequest, state: str | None = None,
                 route: str | None = None, customer_id: int | None = None) -> tuple[list[InboundMail], int]:
    _require_staff(who)
    statement = select(InboundMail)
    if state:
        statement = statement.where(InboundMail.state == state)
    if route:
        statement = statement.where(InboundMail.route == route)
    if customer_id is not None:
        statement = statement.where(InboundMail.customer_id == customer_id)
    return page_of(session, statement, page, INBOUND_SORTS, InboundMail.id)


def readable_inbound(session: Session, who: Principal, inbound_id: int) -> InboundMail:
    _require_staff(who)
    mail = session.get(InboundMail, inbound_id)
    if mail is None:
        raise NotFound(f"received mail {inbound_id} not found")
    return mail


def raw_source(session: Session, routes: MailRoutes, store: DocumentStore, who: Principal, inbound_id: int) -> bytes:
    """The message as received: it may hold the proof that moves a process (see
    MailRoutes.require_mail_reader); a quarantined mail of no customer holds none (a token or a known
    thread would have routed it), so the staff who sort the quarantine read it."""
    mail = readable_inbound(session, who, inbound_id)
    routes.require_mail_reader(session, who, mail.customer_id, open_to_staff=mail.carries_no_proof)
    if mail.raw_sha256 is None:
        raise NotFound(f"received mail {inbound_id} was not kept whole ({mail.reason})")
    return store.get(mail.raw_sha256)


def route_by_hand(session: Session, runtime: ProcessRuntime, routes: MailRoutes, who: Principal, inbound_id: int,
                  outbox_id: int | None = None, customer_id: int | None = None) -> InboundMail:
    """A quarantined message goes where a person says: as the answer to a sent mail (and so to its
    record and process), or to a customer; either needs the right to edit that record or customer.
    A person's routing is a claim like a subject tag: the record's process gets the mail to be read
    by a person (its review task), never as a decision by itself."""
    if not who.has_any("sales", "manager", "ops", "accounting") or who.is_portal:
        raise Forbidden("routing received mail is for sales, accounting, managers and ops")
    mail = session.scalar(select(InboundMail).where(InboundMail.id == inbound_id).with_for_update())
    if mail is None:
        raise NotFound(f"received mail {inbound_id} not found")
    if mail.state != "quarantined":
        raise Conflict(f"received mail {inbound_id} is {mail.state}; only quarantined mail is routed by hand")
    if (outbox_id is None) == (customer_id is None):
        raise ValidationFailed("say where the mail belongs", [
            {"field": "outbox_id", "message": "give either the sent mail it answers or the customer"}])
    if outbox_id is not None:
        sent = session.get(OutboxMail, outbox_id)
        if sent is None:
            raise ValidationFailed("no such sent mail", [{"field": "outbox_id", "message": f"{outbox_id} not found"}])
        routes.require_editable(session, who, sent.record_type, sent.record_id, sent.customer_id)
        decided = manual(sent, who.username)
    else:
        routes.require_editable(session, who, None, None, customer_id)
        decided = manual(None, who.username, customer_id)
    mail.routed_by = who.username
    return apply_route(session, runtime, routes, mail, decided, who)
