"""Offer commands, each in the caller's transaction: create with the customer's defaults, change
(header or lines), submit for approval, revise a sent offer, withdraw, delete a draft.

A change of an offer in approval (or approved, not yet sent) voids its approvals and restarts the
approval on the new content; a change of a sent offer makes the next revision instead.

A draft is the salesperson's scratch paper: it neither takes a number nor, unless it names an
opportunity, opens one in the pipeline. Its first submission gives it its number and, if it has
none, its opportunity (phase "offer", the draft's net total). A draft never submitted may be
deleted; once numbered, an offer is only withdrawn, so that the number series stays gapless."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.catalog.queries import customer_price_list
from domain.customers.access import editable_customer
from domain.customers.models import Address, Contact, Customer, Site
from domain.customers.recipients import receiving_contact, why_not
from domain.customers.rules import check_payment_terms
from domain.customers.timeline import record_trace
from domain.lifecycle import TraceEntry, change_state
from domain.offers import approval
from domain.offers.access import editable_offer
from domain.offers.content import lines_of, price_lines, refresh
from domain.offers.models import CLOSED_STATUSES, OFFER_LIFECYCLE, Offer, OfferLine
from domain.offers.settings import OfferSettings
from domain.sales.models import Opportunity
from domain.sales.opportunities import create_opportunity
from kernel.documents import Document
from kernel.errors import Conflict, ExpectedVersion, ValidationFailed
from kernel.principal import Principal
from mailers.inbound_models import InboundMail
from runtime.runtime import ProcessRuntime


def today(settings: OfferSettings) -> date:
    return approval.local_now(settings).date()


def create_offer(session: Session, settings: OfferSettings, who: Principal, data: dict) -> Offer:
    customer = editable_customer(session, who, data["customer_id"])
    if customer.merged_into_id is not None:
        raise Conflict(f"customer {customer.number} was merged into another customer")
    price_list = customer_price_list(session, customer)
    site = session.get(Site, customer.preferred_site_id) if customer.preferred_site_id else None
    offer = Offer(customer_id=customer.id, title=data["title"], status=OFFER_LIFECYCLE.initial,
                  currency=price_list.currency,
                  price_list_id=price_list.id, payment_days=customer.payment_days,
                  skonto_percent=customer.skonto_percent, skonto_days=customer.skonto_days,
                  delivery_terms=customer.delivery_terms,
                  tax_treatment=(site.tax_treatment if site and site.tax_treatment else customer.tax_treatment),
                  site_id=site.id if site else None, contact_id=_default_contact(session, customer),
                  valid_until=today(settings) + timedelta(days=settings.offer_validity_days),
                  created_by=who.username, changed_by=who.username, authors=[who.username])
    if offer.contact_id is not None:
        offer.language = session.get(Contact, offer.contact_id).language
    offer.billing_address_id = _default_address(session, customer.id, offer.site_id, "billing")
    offer.delivery_address_id = _default_address(session, customer.id, offer.site_id, "delivery")
    _apply_terms(session, settings, offer, {k: v for k, v in data.items()
                                            if k not in ("customer_id", "lines", "opportunity_id") and v is not None})
    offer.opportunity_id = _chosen_opportunity(session, customer, data.get("opportunity_id"))
    session.add(offer)
    session.flush()
    _replace_lines(session, who, offer, data.get("lines") or [], settings)
    record_trace(session, customer.id, "offer_created", who.username, f"offer draft {offer.id}: {offer.title}",
                 "offer", offer.id, params={"draft": offer.id, "title": offer.title})
    return offer


def change_offer(session: Session, runtime: ProcessRuntime, settings: OfferSettings, who: Principal, offer_id: int,
                 terms: dict, lines: list[dict] | None = None, expected_version: ExpectedVersion = None) -> Offer:
    """Apply header changes and/or a new list of lines. Returns the offer that carries the change:
    the same one, or for a sent offer its next revision."""
    offer = editable_offer(session, who, offer_id, expected_version)
    if offer.status in CLOSED_STATUSES:
        raise Conflict(f"offer {offer.label} is {offer.status}; it cannot change any more")
    _require_unanswered(offer)
    if offer.status == "sent":
        offer = revise_offer(session, runtime, settings, who, offer.id)
    before = offer.content_hash
    site_changed = "site_id" in terms and terms["site_id"] != offer.site_id
    _apply_terms(session, settings, offer, terms)
    if site_changed:  # another site may be taxed otherwise: its treatment, and the lines priced again
        site = session.get(Site, offer.site_id) if offer.site_id else None
        offer.tax_treatment = (site.tax_treatment if site and site.tax_treatment else
                               session.get(Customer, offer.customer_id).tax_treatment)
        if lines is None:
            lines = [{"product_id": line.product_id, "quantity": line.quantity,
                      "discount_percent": line.discount_percent, "description": line.description}
                     for line in lines_of(session, offer.id)]
    if lines is not None:
        _replace_lines(session, who, offer, lines, settings)
    else:
        refresh(offer, lines_of(session, offer.id))
    if offer.content_hash != before:
        offer.changed_by = who.username
        offer.authors = sorted({*(offer.authors or []), who.username})
        if offer.status in ("in_approval", "approved"):
            approval.restart(session, runtime, settings, who, offer, f"changed by {who.username}")
    session.flush()
    return offer


def submit_offer(session: Session, runtime: ProcessRuntime, settings: OfferSettings, who: Principal, offer_id: int,
                 expected_version: ExpectedVersion = None) -> Offer:
    """Send a draft for approval (its number is given now), or resubmit it after rework."""
    offer = editable_offer(session, who, offer_id, expected_version)
    if offer.status == "rework":
        approval.resubmit(session, runtime, who, offer)
        return offer
    if offer.status != "draft":
        raise Conflict(f"offer {offer.label} is {offer.status}; only a draft or an offer in rework is submitted")
    approval.require_sendable(session, settings, offer)
    if offer.number is None:
        offer.number = approval.next_offer_number(session, settings)
    if offer.opportunity_id is None:  # it goes out now: from here on it is business in the pipeline
        offer.opportunity_id = _new_opportunity(session, who, session.get(Customer, offer.customer_id), offer)
    approval.start(session, runtime, settings, who, offer)
    return offer


def revise_offer(session: Session, runtime: ProcessRuntime, settings: OfferSettings, who: Principal,
                 offer_id: int, *, from_its_process: str | None = None) -> Offer:
    """The next revision of a sent (or expired) offer, as a draft with the same lines; the sent one is
    superseded and no longer waits for the customer's answer. from_its_process: the offer's own
    process asks for the revision (why, e.g. its review of a reply) and ends by itself; otherwise
    it is cancelled here."""
    offer = editable_offer(session, who, offer_id)
    if offer.status not in ("sent", "expired"):
        raise Conflict(f"offer {offer.label} is {offer.status}; only a sent or expired offer gets a revision")
    _require_unanswered(offer)
    revision = Offer(**{column.key: getattr(offer, column.key) for column in Offer.__table__.columns
                        if column.key not in ("id", "version", "created_at", "updated_at", "submitted_at", "sent_at",
                                              "expires_at", "customer_reminded_at", "answered_at", "answer_note",
                                              "instance_id", "approval_round", "pdf_document_id",
                                              "pdf_content_hash", "status")}, status=OFFER_LIFECYCLE.initial)
    revision.revision, revision.previous_id = offer.revision + 1, offer.id
    revision.created_by = revision.changed_by = who.username
    revision.authors = sorted({*(offer.authors or []), offer.created_by, who.username})
    opportunity = session.get(Opportunity, offer.opportunity_id) if offer.opportunity_id else None
    if opportunity is None or opportunity.closed_at is not None:  # e.g. lost when the offer expired: the
        revision.opportunity_id = None  # revision's submission opens a new one
    if revision.valid_until < today(settings):
        revision.valid_until = today(settings) + timedelta(days=settings.offer_validity_days)
    session.add(revision)
    session.flush()
    for line in lines_of(session, offer.id):
        session.add(OfferLine(**{c.key: getattr(line, c.key) for c in OfferLine.__table__.columns
                                 if c.key not in ("id", "offer_id")}, offer_id=revision.id))
    session.flush()
    refresh(revision, lines_of(session, revision.id))
    if from_its_process is not None:
        approval.void_approvals(session, offer, f"superseded by revision {revision.revision}")
    elif offer.status == "sent":
        approval.stop(session, runtime, who, offer, f"superseded by revision {revision.revision}")
    summary = f"offer {offer.label} revised: revision {revision.revision}"
    change_state(session, offer, "superseded", TraceEntry(
        "offer_revised", who.username, summary + (f" ({from_its_process})" if from_its_process else ""),
        ref=("offer", revision.id), details={"previous_id": offer.id,
                                             "params": {"offer": offer.label, "revision": revision.revision,
                                                        **({"variant": "noted", "note": from_its_process}
                                                           if from_its_process else {})}}))
    return revision


def record_review_reply(session: Session, who: Principal, task, variables: dict, data: dict, *,
                        runtime: ProcessRuntime, settings: OfferSettings) -> dict | None:
    """The completion of "Review customer reply": a new revision answers the reply (the usual answer
    to "can you do something on the price?"). The revision is a draft the salesperson changes and
    submits for approval; this offer is superseded and its process ends. The other decisions
    (accept, decline, wait) are the process's to carry out."""
    if data["decision"] != "revise":
        return None
    note = (data.get("reply_note") or "").strip()
    revision = revise_offer(session, runtime, settings, who, variables["offer_id"],
                            from_its_process="answering the customer's reply" + (f": {note}" if note else ""))
    return {"revision_id": revision.id}


def delete_offer(session: Session, who: Principal, offer_id: int, expected_version: ExpectedVersion = None) -> None:
    """Delete a draft that was never submitted: it has no number (so the series keeps no gap), no
    approvals, was never sent and opened no opportunity of its own. It leaves every list and read
    (404), but its row stays as `deleted`, so that its id is never given to another offer: a stale
    link, ETag or retried DELETE cannot reach someone else's draft, and the customer's timeline keeps
    that it existed and was deleted. A draft that carries documents or received mail is withdrawn
    instead, so that they keep their record."""
    offer = editable_offer(session, who, offer_id, expected_version)
    if offer.status != "draft" or offer.number is not None:
        raise Conflict(f"offer {offer.label} is {offer.status if offer.number is None else 'numbered'}; only a "
                       "draft that was never submitted is deleted, any other offer is withdrawn")
    attached = session.scalar(select(func.count()).select_from(Document).where(
        Document.owner_type == "offer", Document.owner_id == offer.id))
    mails = session.scalar(select(func.count()).select_from(InboundMail).where(
        InboundMail.record_type == "offer", InboundMail.record_id == offer.id))
    if attached or mails:
        raise Conflict(f"offer {offer.label} carries {attached} document(s) and {mails} received mail(s); "
                       "withdraw it instead, so that they keep their record")
    change_state(session, offer, "deleted", TraceEntry(
        "offer_deleted", who.username, f"offer {offer.label} deleted: {offer.title}",
        details={"params": {"draft": offer.id, "title": offer.title}}))


def withdraw_offer(session: Session, runtime: ProcessRuntime, who: Principal, offer_id: int) -> Offer:
    offer = editable_offer(session, who, offer_id)
    if offer.status in CLOSED_STATUSES:
        raise Conflict(f"offer {offer.label} is {offer.status} already")
    _require_unanswered(offer)
    approval.stop(session, runtime, who, offer, f"withdrawn by {who.username}")
    change_state(session, offer, "cancelled",
                 TraceEntry("offer_withdrawn", who.username, f"offer {offer.label} withdrawn",
                            details={"params": {"offer": offer.label}}))
    return offer


# ------------------------------------------------------------------ helpers
def _require_unanswered(offer: Offer) -> None:
    if offer.status == "sent" and offer.answered_at is not None:
        raise Conflict(f"the customer has answered offer {offer.label}; the answer is being processed")


def _replace_lines(session: Session, who: Principal, offer: Offer, inputs: list[dict], settings: OfferSettings) -> None:
    new = price_lines(session, who, offer, inputs, today(settings))
    for line in lines_of(session, offer.id):
        session.delete(line)
    session.flush()
    for line in new:
        line.offer_id = offer.id
        session.add(line)
    session.flush()
    refresh(offer, new)
    if offer.opportunity_id is not None and offer.status in ("draft", "rework"):
        opportunity = session.get(Opportunity, offer.opportunity_id)
        if opportunity is not None and opportunity.closed_at is None:
            opportunity.amount = offer.net_total


def _apply_terms(session: Session, settings: OfferSettings, offer: Offer, terms: dict) -> None:
    errors = []
    for name in ("contact_id", "site_id", "billing_address_id", "delivery_address_id"):
        if terms.get(name) is not None and not _belongs(session, name, terms[name], offer.customer_id):
            errors.append({"field": name, "message": f"{terms[name]} is not one of this customer's"})
        elif name == "contact_id" and terms.get(name) is not None:  # the offer goes to them: they must receive it
            reason = why_not(session.get(Contact, terms[name]), "offers")
            if reason is not None:
                errors.append({"field": name, "message": reason})
    if terms.get("valid_until") is not None and terms["valid_until"] < today(settings):
        errors.append({"field": "valid_until", "message": "must not be in the past"})
    elif terms.get("valid_until") is not None and terms["valid_until"] > today(settings) + timedelta(days=366):
        errors.append({"field": "valid_until", "message": "at most a year ahead"})
    merged = {k: terms.get(k, getattr(offer, k)) for k in ("payment_days", "skonto_percent", "skonto_days")}
    errors += check_payment_terms(merged["payment_days"], merged["skonto_percent"], merged["skonto_days"])
    if errors:
        raise ValidationFailed("the offer's terms are not valid", errors)
    for name, value in terms.items():
        setattr(offer, name, value)
    if "contact_id" in terms and offer.contact_id is not None:
        offer.language = session.get(Contact, offer.contact_id).language
    elif offer.contact_id is None:
        offer.language = offer.language or "de"


def _belongs(session: Session, field: str, record_id: int, customer_id: int) -> bool:
    model = {"contact_id": Contact, "site_id": Site, "billing_address_id": Address,
             "delivery_address_id": Address}[field]
    record = session.get(model, record_id)
    return record is not None and record.customer_id == customer_id


def _default_contact(session: Session, customer: Customer) -> int | None:
    """Who the offer is addressed to: whoever receives offers at the customer (never someone who
    does not: domain.customers.recipients)."""
    contact = receiving_contact(session, customer, "offers")
    return contact.id if contact is not None else None


def _default_address(session: Session, customer_id: int, site_id: int | None, kind: str) -> int | None:
    """The default address of this kind (the site's first), else the main address."""
    for kinds in ((kind,), ("main",)):
        query = select(Address.id).where(Address.customer_id == customer_id, Address.kind.in_(kinds))
        ordered = query.order_by((Address.site_id == site_id).desc() if site_id else Address.site_id.is_(None).desc(),
                                 Address.is_default.desc(), Address.id)
        found = session.scalar(ordered.limit(1))
        if found is not None:
            return found
    return None


def _chosen_opportunity(session: Session, customer: Customer, opportunity_id: int | None) -> int | None:
    """The open opportunity of this customer that a new draft belongs to; None: it gets its own at its
    first submission."""
    if opportunity_id is None:
        return None
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None or opportunity.customer_id != customer.id:
        raise ValidationFailed("not an opportunity of this customer",
                               [{"field": "opportunity_id", "message": f"no opportunity {opportunity_id} here"}])
    if opportunity.closed_at is not None:
        raise ValidationFailed("the opportunity is closed", [{"field": "opportunity_id", "message": "closed"}])
    return opportunity.id


def _new_opportunity(session: Session, who: Principal, customer: Customer, offer: Offer) -> int:
    return create_opportunity(session, who, {"customer_id": customer.id, "title": offer.title[:200], "phase": "offer",
                                             "amount": offer.net_total, "currency": offer.currency}).id
