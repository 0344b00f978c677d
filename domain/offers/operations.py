"""The service tasks of the offer process (bpmn/offer_approval.bpmn), run by the worker's flows.

Each runs its own short transactions and is idempotent: a retry after a crash finds what the first
attempt committed (the PDF of this content, the offer already sent, the order of this offer) and
does not do it again; every mail has a dedupe key. An operation refuses to act on an offer whose
content is no longer the one the process approved."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain.customers.letters import salutation
from domain.customers.models import Contact
from domain.customers.timeline import Trace, record_trace, word_param
from domain.documents import store_generated
from domain.lifecycle import TraceEntry, change_state
from domain.offers import answers, document, notices
from domain.offers.approval import local_now, offer_recipient
from domain.offers.models import Offer, OfferAnswerLink
from domain.offers.settings import OfferSettings
from domain.orders.commands import create_order_from_offer
from domain.orders.models import Order
from domain.sales.models import Opportunity
from domain.sales.opportunities import move_opportunity
from domain.users import User
from kernel import formatting
from kernel.clock import utcnow
from kernel.documents import Document, DocumentStore
from kernel.errors import Conflict, NotFound, ValidationFailed
from kernel.principal import SYSTEM
from mailers.inbound_models import InboundMail
from mailers.outbox import OutboxMail, Recipient, queue_mail
from runtime.runtime import JobContext, OperationRegistry

TEAM = {"de": "Ihr Vertriebsteam", "en": "Your sales team"}  # signs for a salesperson without a stored name


class OfferChanged(Exception):
    """The offer is no longer what the process approved (changed, withdrawn or superseded)."""


def _locked(session, offer_id: int, job: JobContext) -> Offer:
    """The offer, locked, if this job belongs to the offer's own process (any other process, e.g. one
    started by hand with made-up data, is refused)."""
    offer = session.scalar(select(Offer).where(Offer.id == offer_id).with_for_update())
    if offer is None:
        raise LookupError(f"offer {offer_id} does not exist")
    if offer.instance_id != job.instance_id:
        raise OfferChanged(f"process instance {job.instance_id} is not the process of offer {offer.label}")
    job.touched("offer", offer.label)
    return offer


class OfferOperations:
    def __init__(self, kontor):
        self.kontor = kontor

    @property
    def settings(self) -> OfferSettings:
        return self.kontor.settings

    def expiry_of(self, offer: Offer) -> datetime:
        """The end of the validity date in the company's time zone, in UTC."""
        zone = ZoneInfo(self.settings.company_timezone)
        return datetime.combine(offer.valid_until + timedelta(days=1), time(0), zone).astimezone(ZoneInfo("UTC"))

    # -------------------------------------------------------------- document and dispatch
    def render_pdf(self, params: dict, job: JobContext) -> dict:
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            if offer.content_hash != params["content_hash"] or offer.status not in ("in_approval", "approved"):
                raise OfferChanged(f"offer {offer.label} is {offer.status} with other content; not rendered")
            if offer.pdf_content_hash == offer.content_hash and offer.pdf_document_id is not None:
                return {"document_id": offer.pdf_document_id}
            if offer.status != "approved":  # a retry finds it approved by its first attempt
                change_state(session, offer, "approved")
            html = document.offer_html(session, self.settings, offer)
            filename = document.pdf_filename(offer)
        content = document.render_pdf(html)  # outside the transaction: about half a second
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            if offer.content_hash != params["content_hash"]:
                raise OfferChanged(f"offer {offer.label} changed while its PDF was rendered")
            doc = store_generated(session, DocumentStore.under(self.settings.data_dir), self.kontor.document_owners,
                                  "offer", offer.id, filename, "application/pdf", content, SYSTEM.username,
                                  visible_to_customer=False)
            offer.pdf_document_id, offer.pdf_content_hash = doc.id, offer.content_hash
            job.log.info("offer %s rendered: %s bytes, sha256 %s", offer.label, len(content), doc.sha256)
            return {"document_id": doc.id, "sha256": doc.sha256}

    def send(self, params: dict, job: JobContext) -> dict:
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            if offer.status == "sent" and offer.pdf_document_id == params["document_id"]:
                return self._dates(offer)  # sent by an earlier attempt
            if offer.content_hash != params["content_hash"] or offer.status != "approved":
                raise OfferChanged(f"offer {offer.label} is {offer.status} with other content; not sent")
            if offer.valid_until < local_now(self.settings).date():
                raise OfferChanged(f"offer {offer.label} was valid until {offer.valid_until}; change its validity "
                                   "(approval restarts)")
            session.get(Document, params["document_id"]).visible_to_customer = True  # the customer has it now
            offer.expires_at = self.expiry_of(offer)
            token = answers.create_link(session, self.settings.signing_key(), offer, offer.expires_at)
            recipient = offer_recipient(session, offer)
            queue_mail(session, self.settings, who=SYSTEM, recipient=recipient, template="offer",
                       context=self._mail_context(session, offer, recipient, link=self._link(token)),
                       dedupe_key=f"offer-sent:{offer.id}:{offer.content_hash}", record=("offer", offer.id),
                       subject_tag=offer.label, attachments=[params["document_id"]])
            offer.sent_at = utcnow()
            change_state(session, offer, "sent", TraceEntry(
                "offer_sent", SYSTEM.username, f"offer {offer.label} sent to {recipient.address}",
                details={"params": {"offer": offer.label, "address": recipient.address}}))
            job.log.info("offer %s queued for %s", offer.label, recipient.address)
            return self._dates(offer)

    def _dates(self, offer: Offer) -> dict:
        reminder = offer.expires_at - timedelta(days=self.settings.offer_reminder_days_before)
        return {"expires_at": offer.expires_at.isoformat(), "reminder_at": reminder.isoformat()}

    def _link(self, token: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/o/{token}"

    def _mail_context(self, session, offer: Offer, recipient: Recipient, **extra) -> dict:
        """What the offer's mails print: the contact's salutation (without its comma: the templates
        add it), amounts and dates in the recipient's language, the salesperson who signs."""
        lang = document.document_language(recipient.language)
        contact = session.get(Contact, recipient.contact_id) if recipient.contact_id else None
        salesperson = document.salesperson_of(session, offer.created_by) or {}
        return {"offer_label": offer.label, "title": offer.title,
                "salutation": salutation(contact, lang).rstrip(","),
                "valid_until": formatting.day(offer.valid_until, lang),
                "gross_total": formatting.money(offer.gross_total, offer.currency, lang),
                "sender_name": salesperson.get("name") or TEAM[lang],
                "sender_phone": salesperson.get("phone"), "sender_email": salesperson.get("email"),
                "company_name": self.settings.company_name, **extra}

    def remind_customer(self, params: dict, job: JobContext) -> dict:
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            if offer.status != "sent" or offer.customer_reminded_at is not None:
                return {"reminded": False, "why": f"offer is {offer.status}, reminded {offer.customer_reminded_at}"}
            remind_from = offer.expires_at - timedelta(days=self.settings.offer_reminder_days_before)
            if offer.sent_at >= remind_from:
                return {"reminded": False, "why": "sent too close to the end of its validity"}
            recipient = offer_recipient(session, offer)
            queue_mail(session, self.settings, who=SYSTEM, recipient=recipient, template="offer_reminder",
                       context=self._mail_context(session, offer, recipient),
                       dedupe_key=f"offer-reminder:{offer.id}", record=("offer", offer.id), subject_tag=offer.label)
            offer.customer_reminded_at = utcnow()
            record_trace(session, offer.customer_id, "offer_reminder_sent", SYSTEM.username,
                         f"reminder for offer {offer.label} sent to {recipient.address}", "offer", offer.id,
                         params={"offer": offer.label, "address": recipient.address})
            return {"reminded": True}

    def remind_approvers(self, params: dict, job: JobContext) -> dict:
        """A mail to each member of the approver group (with an address) that the approval is due."""
        group = params["group"]
        with self.kontor.transaction() as session:
            offer = session.get(Offer, params["offer_id"])
            users = [u for u in session.scalars(select(User).where(User.active.is_(True), User.email.is_not(None)))
                     if group in (u.groups or [])]
            for user in users:
                recipient = Recipient(address=user.email, name=user.full_name or user.username, language="de")
                queue_mail(session, self.settings, who=SYSTEM, recipient=recipient, template="approval_reminder",
                           context={**self._mail_context(session, offer, recipient), "level": params["level"],
                                    "approver_name": recipient.name, "salutation": None},
                           dedupe_key=f"approval-reminder:{offer.id}:{params['approval_round']}:{params['level']}:"
                                      f"{group}:{user.username}", record=("offer_approval", offer.id),
                           subject_tag=offer.label)  # a reply is no answer of the customer
            if not users:
                job.log.warning("nobody in group %s has an e-mail address; offer %s waits unreminded", group,
                                offer.label)
            return {"reminded": sorted(u.username for u in users)}

    # -------------------------------------------------------------- the customer's answer
    def read_answer(self, params: dict, job: JobContext) -> dict:
        """What the answer says; the salesperson is told of it (once per answer, see notices)."""
        reply = params.get("reply") or {}
        answer = self._read_answer(params, reply, job)
        with self.kontor.transaction() as session:
            offer = session.get(Offer, params["offer_id"])
            if offer is not None and offer.instance_id == job.instance_id:
                notices.tell_salesperson(session, self.settings, offer, reply, answer,
                                         notices.answer_key(offer.id, reply, job.job_key))
        return answer

    def _read_answer(self, params: dict, reply: dict, job: JobContext) -> dict:
        if reply.get("route") == "link":  # trusted only with the used link behind it
            with self.kontor.transaction() as session:
                link = session.get(OfferAnswerLink, reply.get("link_id") or 0)
                if link is None or link.offer_id != params["offer_id"] or link.used_for != reply.get("decision"):
                    job.log.warning("an answer to offer %s claims a link it has not used; read as unclear",
                                    params["offer_id"])
                    return {"answer": "unclear", "via": "link", "note": None}
            return {"answer": link.used_for, "via": "link", "note": reply.get("reason")}
        text = reply.get("reply_text") or ""
        if reply.get("evidence") != "proof":  # a claim (subject tag, sender, by hand): a person reads it
            why = reply.get("review_reason") or "the mail proves nothing about who sent it"
            job.log.info("reply to offer %s needs a person: %s", params["offer_id"], why)
            return {"answer": "unclear", "via": "mail", "note": None, "why": why,
                    "inbound_mail_id": reply.get("inbound_mail_id")}
        verdict = answers.read_reply(text)
        job.log.info("reply to offer %s read as %s", params["offer_id"], verdict)
        return {"answer": verdict, "via": "mail", "note": text[:500] if verdict == "decline" else None,
                "why": None if verdict != "unclear" else "the reply says neither a clear yes nor a clear no",
                "inbound_mail_id": reply.get("inbound_mail_id")}

    def accept(self, params: dict, job: JobContext) -> dict:
        """The order, the opportunity won and the order confirmation: a mail with the confirmation as
        PDF, threaded under the offer's mail. The PDF is rendered between two transactions; a retry
        finds the order, and sends the confirmation if the first attempt did not get to it."""
        answer = params.get("answer") or {}
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            if offer.status not in ("sent", "accepted"):
                raise OfferChanged(f"offer {offer.label} is {offer.status}; it cannot be accepted")
            first = offer.status == "sent"
            order = create_order_from_offer(session, offer, local_now(self.settings).year,
                                            answer.get("via") or "mail", SYSTEM.username)
            job.touched("order", order.number)
            if first:
                offer.answered_at, offer.answer_note = utcnow(), answer.get("note")
                change_state(session, offer, "accepted", TraceEntry(
                    "offer_accepted", SYSTEM.username, f"offer {offer.label} accepted ({answer.get('via')})",
                    details={"params": {"offer": offer.label, "via": word_param(answer.get("via"))}}))
                self._close_opportunity(session, offer, "won")
            result, order_id = {"order_id": order.id, "number": order.number}, order.id
            html = self._confirmation_html(session, offer, order, job)
        if html is None:
            return result
        content = document.render_pdf(html)  # outside the transaction: about half a second
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            order = session.get(Order, order_id)
            if self._confirmation_html(session, offer, order, job) is not None:  # not sent meanwhile
                self._confirm(session, offer, order, content, answer)
        return result

    def _confirmation_html(self, session, offer: Offer, order: Order, job: JobContext) -> str | None:
        """The confirmation document to render, or None when its mail is queued already or nobody is
        there to receive it (then a trace says so once; the order stands)."""
        if session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == f"order-confirmation:{order.id}")):
            return None
        try:
            offer_recipient(session, offer, "order_confirmations")
        except (Conflict, ValidationFailed, NotFound) as exc:
            if not session.scalar(select(Trace.id).where(Trace.kind == "order_not_confirmed",
                                                         Trace.ref_type == "order", Trace.ref_id == order.id)):
                job.log.warning("order %s: no confirmation mail (%s)", order.number, exc.message)
                record_trace(session, offer.customer_id, "order_not_confirmed", SYSTEM.username,
                             f"order {order.number}: no confirmation mail, {exc.message}", "order", order.id,
                             params={"order": order.number, "why": exc.message})
            return None
        return document.order_confirmation_html(session, self.settings, order, offer)

    def _confirm(self, session, offer: Offer, order: Order, content: bytes, answer: dict) -> None:
        """The order confirmation mail with its PDF, in reply to the offer's mail (and to the
        customer's own mail, when the answer came by mail)."""
        recipient = offer_recipient(session, offer, "order_confirmations")
        doc = store_generated(session, DocumentStore.under(self.settings.data_dir), self.kontor.document_owners,
                              "order", order.id, document.confirmation_filename(order), "application/pdf", content,
                              SYSTEM.username, visible_to_customer=True)
        offer_mail = session.scalar(select(OutboxMail.message_id).where(
            OutboxMail.record_type == "offer", OutboxMail.record_id == offer.id, OutboxMail.template == "offer")
            .order_by(OutboxMail.id.desc()).limit(1))
        reply = session.get(InboundMail, answer["inbound_mail_id"]) if answer.get("via") == "mail" \
            and answer.get("inbound_mail_id") else None
        if reply is not None and reply.record_type == "offer" and reply.record_id == offer.id:
            parent, references = reply.message_id, [offer_mail, *(reply.references or []), reply.message_id]
        else:
            parent, references = offer_mail, [offer_mail]
        queue_mail(session, self.settings, who=SYSTEM, recipient=recipient, template="order_confirmation",
                   context={**self._mail_context(session, offer, recipient), "order_number": order.number},
                   dedupe_key=f"order-confirmation:{order.id}", record=("order", order.id), subject_tag=order.number,
                   attachments=[doc.id], in_reply_to=parent, references=[r for r in references if r])

    def decline(self, params: dict, job: JobContext) -> dict:
        answer = params.get("answer") or {}
        reason = (answer.get("note") or "declined by the customer")[:300]
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            if offer.status == "sent":
                offer.answered_at, offer.answer_note = utcnow(), reason
                change_state(session, offer, "declined", TraceEntry(
                    "offer_declined", SYSTEM.username, f"offer {offer.label} declined ({answer.get('via')}): {reason}",
                    details={"params": {"offer": offer.label, "via": word_param(answer.get("via")),
                                        "reason": answer.get("note")[:300] if answer.get("note")
                                        else word_param("no_reason")}}))
                self._close_opportunity(session, offer, "lost", reason)
            return {"status": offer.status}

    def expire(self, params: dict, job: JobContext) -> dict:
        with self.kontor.transaction() as session:
            offer = _locked(session, params["offer_id"], job)
            if offer.status == "sent":
                change_state(session, offer, "expired", TraceEntry(
                    "offer_expired", SYSTEM.username, f"offer {offer.label} expired without an answer",
                    details={"params": {"offer": offer.label}}))
                self._close_opportunity(session, offer, "lost", f"offer {offer.label} expired without an answer")
            return {"status": offer.status}

    @staticmethod
    def _close_opportunity(session, offer: Offer, outcome: str, reason: str | None = None) -> None:
        opportunity = session.get(Opportunity, offer.opportunity_id) if offer.opportunity_id else None
        if opportunity is None or opportunity.closed_at is not None:
            return
        if outcome == "won":
            opportunity.amount = Decimal(offer.net_total)
        move_opportunity(session, SYSTEM, opportunity.id, outcome, lost_reason=reason)


def register(operations: OperationRegistry, kontor) -> None:
    ops = OfferOperations(kontor)
    for name in ("render_pdf", "send", "remind_customer", "remind_approvers", "read_answer", "accept", "decline",
                 "expire"):
        operations.register(f"offers.{name}", getattr(ops, name))
