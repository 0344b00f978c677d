"""The offer's approval: the facts the rules decide on, the approval process (bpmn/offer_approval.bpmn)
started, stopped and restarted with the offer's content, and its human tasks: their guards (four
eyes, the level's group, the content still the one asked about) and their completions (the approval
bound to the content hash, rework, resubmission and withdrawal)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.customers.models import Customer
from domain.customers.recipients import document_recipient
from domain.customers.timeline import record_trace
from domain.lifecycle import TraceEntry, change_state
from domain.numbering import next_number
from domain.offers.access import editable_offer
from domain.offers.content import lines_of, totals_of
from domain.offers.labels import offer_summary, staff_language
from domain.offers.models import OFFER_NUMBERS, Offer, OfferApproval
from domain.offers.settings import OfferSettings
from domain.payments import balances
from kernel.clock import utcnow
from kernel.errors import Conflict, Forbidden, ValidationFailed
from kernel.principal import Principal
from mailers.outbox import Recipient
from runtime.human_tasks import complete_task
from runtime.instances import cancel_instance, start_instance
from runtime.models import HumanTask, ProcessInstance
from runtime.runtime import ProcessRuntime, TaskRef

PROCESS = "offer_approval"
# Approval levels from lowest to highest; an offer that needs a level is approved by every level up to it.
LEVELS = ("team_lead", "sales_manager", "managing_director")


def local_now(settings: OfferSettings) -> datetime:
    return datetime.now(ZoneInfo(settings.company_timezone))


def next_offer_number(session: Session, settings: OfferSettings) -> str:
    return next_number(session, OFFER_NUMBERS, local_now(settings).year)


def open_items_total(session: Session, customer_id: int) -> Decimal:
    """What the customer owes on issued invoices not yet paid (domain.payments.balances)."""
    return balances.open_items_total(session, customer_id, utcnow().date())


@dataclass(frozen=True)
class ReferenceTerms:
    """What an offer's terms and the customer's exposure are measured against."""
    payment_days: int
    skonto_percent: Decimal
    skonto_days: int
    credit_limit: Decimal | None  # None: no limit


def reference_terms(customer: Customer, settings: OfferSettings) -> ReferenceTerms:
    """The customer's own terms where a manager set them; otherwise the stricter of theirs and the
    company's standard terms, so that a salesperson cannot widen what they may offer alone."""
    own = ReferenceTerms(customer.payment_days, customer.skonto_percent or Decimal("0"), customer.skonto_days or 0,
                         customer.credit_limit)
    if customer.terms_approved_by is not None:
        return own
    limits = [x for x in (own.credit_limit, settings.standard_credit_limit) if x is not None]
    return ReferenceTerms(min(own.payment_days, settings.standard_payment_days),
                          min(own.skonto_percent, settings.standard_skonto_percent),
                          min(own.skonto_days, settings.standard_skonto_days), min(limits))


def facts(session: Session, settings: OfferSettings, offer: Offer) -> dict:
    """What the approval rules (bpmn/offer_approval_level.dmn) decide on, as process data."""
    totals = totals_of(offer, lines_of(session, offer.id))
    customer = session.get(Customer, offer.customer_id)
    exposure = open_items_total(session, customer.id) + totals.gross_total
    terms = reference_terms(customer, settings)
    nonstandard = (offer.payment_days > terms.payment_days
                   or (offer.skonto_percent or 0) > terms.skonto_percent
                   or (offer.skonto_days or 0) > terms.skonto_days)
    return {"offer_id": offer.id, "offer_label": offer.label, "content_hash": offer.content_hash,
            "currency": offer.currency, "net_total": str(totals.net_total),
            "max_line_discount": str(totals.max_line_discount), "header_discount": str(offer.header_discount_percent),
            "margin_percent": None if totals.margin_percent is None else str(totals.margin_percent),
            "over_credit_limit": terms.credit_limit is not None and exposure > terms.credit_limit,
            "nonstandard_terms": bool(nonstandard), "approval_round": offer.approval_round,
            # what the titles of its tasks show (bpmn/offer_approval.bpmn, `title`)
            "customer_name": customer.name,
            "offer_summary": offer_summary(offer, customer.name, staff_language(settings.company_country))}


def offer_recipient(session: Session, offer: Offer, document: str = "offers") -> Recipient:
    """Who gets the offer's mails (`document`: offers, order_confirmations), by the one rule of
    domain.customers.recipients: its contact if they receive offers, without a contact whoever at the
    customer does; Conflict naming the reason when nobody may get it."""
    return document_recipient(session, offer.customer_id, document, offer.contact_id)


def require_sendable(session: Session, settings: OfferSettings, offer: Offer) -> None:
    """What an offer needs before it goes into approval: lines, a validity not yet over, and somebody
    at the customer who receives it."""
    errors = []
    if not lines_of(session, offer.id):
        errors.append({"field": "lines", "message": "an offer needs at least one line"})
    if offer.valid_until < local_now(settings).date():
        errors.append({"field": "valid_until", "message": "the validity has passed; set a new one"})
    try:
        offer_recipient(session, offer)
    except (Conflict, ValidationFailed) as refused:
        errors.append({"field": "contact_id", "message": refused.message.removeprefix("no offers mail: ")})
    if errors:
        raise ValidationFailed("the offer cannot go out like this", errors)


def start(session: Session, runtime: ProcessRuntime, settings: OfferSettings, who: Principal, offer: Offer) -> None:
    """A new approval round on the offer's current content."""
    offer.approval_round += 1
    offer.submitted_at = utcnow()
    offer.authors = sorted({*(offer.authors or []), who.username})  # who asks for the approval gives none
    data = {**facts(session, settings, offer), "salesperson": who.username, "approval_levels": list(LEVELS),
            "approval_deputies": dict(settings.approval_deputies), "approval_due": settings.offer_approval_due,
            "approval_escalate_after": settings.offer_approval_escalate_after}
    instance, _ = start_instance(session, runtime, who, PROCESS, data,
                                 business_key=f"offer-{offer.id}-round-{offer.approval_round}")
    offer.instance_id = instance.id
    variables = instance.variables or {}
    change_state(session, offer, "in_approval", TraceEntry(
        "offer_submitted", who.username, f"offer {offer.label} submitted for approval: {describe_need(variables)}",
        details={"level": variables.get("approval_level"), "rule": variables.get("approval_rule"),
                 "params": need_params(offer, variables)}))


def need_params(offer: Offer, variables: dict) -> dict:
    """The trace parameters of a submission: the level the rules asked for and their rule."""
    level = variables.get("approval_level") or "none"
    rule = variables.get("approval_rule")
    return {"offer": offer.label, "level": {"word": level}, "rule": f" ({rule})" if rule and level != "none" else ""}


def describe_need(variables: dict) -> str:
    level = variables.get("approval_level")
    if not level or level == "none":
        return "no approval needed"
    return f"{level.replace('_', ' ')} ({variables.get('approval_rule')})"


def stop(session: Session, runtime: ProcessRuntime, who: Principal, offer: Offer, reason: str) -> None:
    """End the offer's process (if it still runs) and void its approvals."""
    if offer.instance_id is not None:
        instance = session.get(ProcessInstance, offer.instance_id)
        if instance is not None and instance.status in ("running", "suspended"):
            cancel_instance(session, runtime, who, instance.id, reason)
    void_approvals(session, offer, reason)


def restart(session: Session, runtime: ProcessRuntime, settings: OfferSettings, who: Principal, offer: Offer,
            reason: str) -> None:
    """The content changed after submission: every approval so far is void; approval starts again."""
    stop(session, runtime, who, offer, reason)
    record_trace(session, offer.customer_id, "offer_approval_voided", who.username,
                 f"offer {offer.label}: approval voided ({reason}); approval restarts", "offer", offer.id,
                 params={"offer": offer.label, "by": who.username})
    start(session, runtime, settings, who, offer)


def void_approvals(session: Session, offer: Offer, reason: str) -> None:
    session.execute(update(OfferApproval).where(OfferApproval.offer_id == offer.id,
                                                OfferApproval.voided_at.is_(None))
                    .values(voided_at=utcnow(), void_reason=reason[:300]))


def resubmit(session: Session, runtime: ProcessRuntime, who: Principal, offer: Offer) -> None:
    """After a rejection: complete the rework task with "resubmit" (its completion brings the new facts)."""
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == offer.instance_id,
                                                  HumanTask.spec_name == "Task_rework", HumanTask.state == "open"))
    if task is None:
        raise Conflict(f"offer {offer.label} has no open rework task")
    if task.assignee not in (None, who.username):
        raise Conflict(f"the rework of offer {offer.label} is with {task.assignee}; they resubmit it or hand it over")
    complete_task(session, runtime, task.id, who, {"decision": "resubmit"})


# ------------------------------------------------------------------ guards of the process's human tasks
# A guard only checks, on claim, delegation and completion alike; what a completion decides is
# recorded by the task's completion (record_approval, record_rework), which the runtime runs right
# after the guard passed, in the same transaction, before the process moves on.
def guard_approval(session: Session, who: Principal, task: HumanTask, variables: dict, action: str,
                   data: dict | None, *, settings: OfferSettings) -> None:
    """The level's own group (its deputies' once escalated), four eyes, on the content the process
    approves. Checked on claim and on completion, whoever holds the task and however it came to
    them: being its assignee or an admin is no authority."""
    steps, step = variables["approval_steps"], int(variables["step"])
    group = approving_group(variables, steps[step])
    if group not in who.groups or who.is_portal:
        raise Forbidden(_needs_group(steps[step], group))
    offer = session.get(Offer, variables["offer_id"])
    if (four_eyes := approver_refusal(who, offer, None)) is not None:
        raise Forbidden(four_eyes)
    if offer.status != "in_approval" or offer.content_hash != variables.get("content_hash"):
        raise Conflict(f"offer {offer.label} changed since this approval was asked for; its approval restarted")
    earlier = session.scalar(select(OfferApproval.level).where(
        OfferApproval.offer_id == offer.id, OfferApproval.approval_round == offer.approval_round,
        OfferApproval.voided_at.is_(None), OfferApproval.decided_by == who.username).limit(1))
    if (once := approver_refusal(who, offer, earlier)) is not None:
        raise Forbidden(once)
    if action == "complete" and data["decision"] == "approve" and offer.valid_until < local_now(settings).date():
        raise Conflict(f"offer {offer.label} was valid until {offer.valid_until}; it needs a new validity first")


def _needs_group(level: str, group: str) -> str:
    return f"approving at level {level.replace('_', ' ')} needs the group {group}"


def _authors(offer: Offer) -> set[str]:
    return {offer.created_by, offer.changed_by, *(offer.authors or [])}


def approver_refusal(who: Principal, offer: Offer, earlier_level: str | None) -> str | None:
    """Why this person may not approve the offer whatever the level (None: they may): four eyes
    (nobody approves what they wrote or asked to be approved) and one level per approver (earlier_level: the level they
    approved in this round already)."""
    if who.username in _authors(offer):
        return (f"four eyes: {who.username} created, changed or submitted offer {offer.label}; "
                "another approver decides")
    if earlier_level is not None:
        return (f"{who.username} approved offer {offer.label} at level {earlier_level.replace('_', ' ')} already; "
                "each level needs another approver")
    return None


def screen_approvals(session: Session, who: Principal, tasks: Sequence[TaskRef]) -> dict[int, str]:
    """guard_approval's answer for many approval tasks at once, in two queries: the level's group
    (the task's candidate group is the level's own or its deputies'), four eyes, one level per
    approver, and the offer still in approval."""
    refused: dict[int, str] = {}
    by_instance = {offer.instance_id: offer for offer in session.scalars(
        select(Offer).where(Offer.instance_id.in_(sorted({t.instance_id for t in tasks}))))}
    earlier = dict(session.execute(select(OfferApproval.offer_id, OfferApproval.level).where(
        OfferApproval.offer_id.in_(sorted(o.id for o in by_instance.values())),
        OfferApproval.decided_by == who.username, OfferApproval.voided_at.is_(None),
        OfferApproval.approval_round == select(Offer.approval_round).where(Offer.id == OfferApproval.offer_id)
        .scalar_subquery())).all())
    for task in tasks:
        offer = by_instance.get(task.instance_id)
        if who.is_portal or not set(task.candidate_groups) & who.groups:
            refused[task.id] = "approving at this level needs the group " + ", ".join(task.candidate_groups)
        elif offer is None:  # not an offer's own process (its guard refuses it when asked)
            refused[task.id] = "this process is not the approval of an offer"
        elif (reason := approver_refusal(who, offer, earlier.get(offer.id))) is not None:
            refused[task.id] = reason
        elif offer.status != "in_approval":
            refused[task.id] = f"offer {offer.label} is {offer.status}; its approval is over"
    return refused


def record_approval(session: Session, who: Principal, task: HumanTask, variables: dict, data: dict) -> None:
    """The decision, bound to the content it was given on; a rejection sends the offer to rework."""
    steps, step = variables["approval_steps"], int(variables["step"])
    offer = session.get(Offer, variables["offer_id"])
    approved = data["decision"] == "approve"
    session.add(OfferApproval(offer_id=offer.id, approval_round=offer.approval_round, level=steps[step],
                              approver_group=approving_group(variables, steps[step]),
                              decision="approved" if approved else "rejected", reason=data.get("reason"),
                              content_hash=offer.content_hash, decided_by=who.username, human_task_id=task.id))
    trace = TraceEntry("offer_approved" if approved else "offer_rejected", who.username,
                       f"offer {offer.label} {'approved' if approved else 'rejected'} at level "
                       f"{steps[step].replace('_', ' ')}" + (f": {data.get('reason')}" if data.get("reason") else ""),
                       details={"params": {"offer": offer.label, "level": {"word": steps[step]},
                                           "reason": f": {data.get('reason')}" if data.get("reason") else ""}})
    # an approval leaves the offer in approval (the next level, or its PDF, follows); a rejection does not
    change_state(session, offer, "in_approval" if approved else "rework", trace)


def approving_group(variables: dict, level: str) -> str:
    """Who approves a level: its own group, or its deputy group once the approval was escalated."""
    if variables.get("escalated"):
        return (variables.get("approval_deputies") or {}).get(level, level)
    return level


def guard_rework(session: Session, who: Principal, task: HumanTask, variables: dict, action: str,
                 data: dict | None, *, settings: OfferSettings) -> None:
    """Only who may change the offer reworks it; a resubmission needs an offer that can go out."""
    offer = editable_offer(session, who, variables["offer_id"])
    if offer.status != "rework":
        raise Conflict(f"offer {offer.label} is {offer.status}, not in rework")
    if action == "complete" and data["decision"] != "withdraw":
        require_sendable(session, settings, offer)


def record_rework(session: Session, who: Principal, task: HumanTask, variables: dict, data: dict, *,
                  settings: OfferSettings) -> dict | None:
    """Withdrawn, or resubmitted as a new approval round: the completion then carries the new
    content's facts into the process."""
    offer = session.get(Offer, variables["offer_id"])
    if data["decision"] == "withdraw":
        void_approvals(session, offer, f"withdrawn by {who.username}")
        change_state(session, offer, "cancelled",
                     TraceEntry("offer_withdrawn", who.username, f"offer {offer.label} withdrawn",
                                details={"params": {"offer": offer.label}}))
        return None
    void_approvals(session, offer, "resubmitted after rework")
    offer.approval_round += 1
    offer.submitted_at = utcnow()
    offer.authors = sorted({*(offer.authors or []), who.username})
    change_state(session, offer, "in_approval", TraceEntry(
        "offer_submitted", who.username, f"offer {offer.label} resubmitted after rework",
        details={"params": {"variant": "resubmitted", "offer": offer.label}}))
    return facts(session, settings, offer)


def guard_review_reply(session: Session, who: Principal, task: HumanTask, variables: dict, action: str,
                       data: dict | None) -> None:
    """The salesperson decides what an unclear reply means, while the offer is still out."""
    offer = editable_offer(session, who, variables["offer_id"])
    if offer.status != "sent":
        raise Conflict(f"offer {offer.label} is {offer.status}; there is no answer to decide any more")
    if action == "complete" and data["decision"] == "accept" and offer.expires_at is not None \
            and offer.expires_at <= utcnow():
        raise Conflict(f"offer {offer.label} expired on {offer.valid_until}; a late yes needs a new revision")
    if action == "complete" and data["decision"] == "revise" and offer.answered_at is not None:
        raise Conflict(f"the customer has answered offer {offer.label}; the answer is being processed")
