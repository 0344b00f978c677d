"""The salesperson hears of the customer's answer: whenever the offer process reads an answer (by the
signed link or by a mail reply; a yes, a no, or a reply a person must read), the offer's salesperson
gets a mail through the outbox with the answer, the customer's comment and the offer's number and
link, and the customer's timeline notes it. One notice per answer, however often the reading runs:
the answer's own identity (the link used, the mail received) is the mail's dedupe key, and the trace
is written only with a new mail, in the same transaction."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import Customer
from domain.customers.timeline import record_trace
from domain.offers.labels import offer_summary, staff_language
from domain.offers.models import Offer
from domain.offers.settings import OfferSettings
from domain.users import User
from kernel.principal import SYSTEM
from mailers.outbox import OutboxMail, Recipient, queue_mail

log = logging.getLogger("kontor.offers")
ANSWERS = {"accept": "accepted", "decline": "declined"}  # anything else: a reply a person must read


def answer_key(offer_id: int, reply: dict, fallback: str) -> str:
    """The one dedupe key of this answer: the link used, the mail received (else the job's own key)."""
    if reply.get("route") == "link" and reply.get("link_id"):
        return f"offer-answer:{offer_id}:link:{reply['link_id']}"
    if reply.get("inbound_mail_id"):
        return f"offer-answer:{offer_id}:mail:{reply['inbound_mail_id']}"
    return f"offer-answer:{offer_id}:{fallback}"[:200]


def salesperson(session: Session, offer: Offer, customer: Customer) -> User | None:
    """Who hears of the answer: the offer's author, else the customer's owner (active, with an address)."""
    for username in (offer.created_by, customer.owner):
        user = session.scalar(select(User).where(User.username == username)) if username else None
        if user is not None and user.active and user.email:
            return user
    return None


def tell_salesperson(session: Session, settings: OfferSettings, offer: Offer, reply: dict, answer: dict,
                     key: str) -> OutboxMail | None:
    """Queue the notice of this answer (None: told already, or nobody to tell, which the trace says)."""
    if session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == key)) is not None:
        return None  # this answer's notice is queued already (a retry of the reading)
    customer = session.get_one(Customer, offer.customer_id)
    outcome = ANSWERS.get(answer.get("answer") or "", "to_review")
    via = "link" if reply.get("route") == "link" else "mail"
    comment = ((reply.get("reason") if via == "link" else reply.get("reply_text")) or "").strip()[:500] or None
    user = salesperson(session, offer, customer)
    summary = f"customer's answer to offer {offer.label} ({outcome.replace('_', ' ')}, by {via})" + (
        f": {comment}" if comment else "")
    if user is None:
        log.warning("nobody to tell of the answer to offer %s: %s has no active user with an address",
                    offer.label, offer.created_by)
        record_trace(session, customer.id, "offer_answer_received", SYSTEM.username,
                     summary + "; nobody to tell by mail", "offer", offer.id, outcome=outcome, via=via)
        return None
    language = staff_language(settings.company_country)  # the staff's: the company's language
    mail = queue_mail(
        session, settings, who=SYSTEM, template="offer_answer_notice",
        recipient=Recipient(address=user.email, name=user.full_name or user.username, language=language),
        context={"salesperson_name": user.full_name or user.username, "offer_label": offer.label,
                 "title": offer.title, "customer_name": customer.name,
                 "summary": offer_summary(offer, customer.name, language), "outcome": outcome, "via": via,
                 "comment": comment, "offer_url": f"{settings.public_base_url.rstrip('/')}/api/v1/offers/{offer.id}",
                 "company_name": settings.company_name},
        dedupe_key=key, record=("offer_notice", offer.id), subject_tag=offer.label)  # a reply answers nothing
    record_trace(session, customer.id, "offer_answer_received", SYSTEM.username,
                 summary + f"; {user.username} told by mail", "offer", offer.id, outcome=outcome, via=via,
                 told=user.username, outbox_id=mail.id)
    return mail
