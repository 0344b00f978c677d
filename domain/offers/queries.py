"""Reading offers: lists, revisions, and the brief an approver or salesperson decides a task on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.customers.access import require_staff_reader
from domain.customers.models import Customer
from domain.offers.access import readable_offer
from domain.offers.approval import describe_need, open_items_total
from domain.offers.content import content_of, diff, lines_of, totals_of
from domain.offers.models import Offer, OfferApproval
from domain.offers.totals import LineFigures, line_margin
from kernel import formatting
from kernel.listing import PageRequest, like_pattern, page_of
from kernel.principal import Principal
from runtime.models import ProcessInstance

OFFER_SORTS = {"id": Offer.id, "number": Offer.number, "created_at": Offer.created_at,
               "valid_until": Offer.valid_until, "net_total": Offer.net_total, "status": Offer.status}


@dataclass
class OfferFilter:
    q: str | None = None
    customer_id: int | None = None
    status: str | None = None
    owner: str | None = None
    valid_before: date | None = None


def list_offers(session: Session, who: Principal, f: OfferFilter, page: PageRequest) -> tuple[list[Offer], int]:
    require_staff_reader(who, "offers")
    statement = select(Offer).where(Offer.status != "deleted")
    if f.q:
        pattern = like_pattern(f.q)
        statement = statement.where(or_(Offer.title.ilike(pattern, escape="\\"),
                                        Offer.number.ilike(pattern, escape="\\")))
    if f.customer_id is not None:
        statement = statement.where(Offer.customer_id == f.customer_id)
    if f.status is not None:
        statement = statement.where(Offer.status == f.status)
    if f.owner is not None:
        statement = statement.where(Offer.created_by == f.owner)
    if f.valid_before is not None:
        statement = statement.where(Offer.valid_until < f.valid_before)
    return page_of(session, statement, page, OFFER_SORTS, Offer.id)


def revisions(session: Session, who: Principal, offer_id: int) -> list[Offer]:
    """Every revision of the offer, first to last."""
    offer = readable_offer(session, who, offer_id)
    chain = [offer]
    while chain[0].previous_id is not None:
        chain.insert(0, session.get(Offer, chain[0].previous_id))
    while True:
        following = session.scalar(select(Offer).where(Offer.previous_id == chain[-1].id))
        if following is None:
            return chain
        chain.append(following)


# What kind of rule of bpmn/offer_approval_level.dmn asked for the level, from the words of its
# "Why" column (a new row whose words name none of these reads "other").
RULE_KINDS = (("net total", "amount"), ("margin", "margin"), ("credit limit", "credit_limit"),
              ("discount", "discount"), ("terms", "payment_terms"))
DECIDED_ON = ("net_total", "margin_percent", "max_line_discount", "header_discount", "over_credit_limit",
              "nonstandard_terms")


def approval_need(session: Session, offer: Offer) -> dict | None:
    """What the approval rules asked for in the offer's latest approval round: the level, every level
    that approves in turn up to it, the rule (its words and its kind) and the facts it was decided
    on. None before the first submission (a draft or a new revision)."""
    instance = session.get(ProcessInstance, offer.instance_id) if offer.instance_id else None
    variables = (instance.variables or {}) if instance is not None else {}
    if not variables.get("approval_level"):
        return None
    level, rule = variables["approval_level"], variables.get("approval_rule")
    kind = None if level == "none" else next((k for words, k in RULE_KINDS if words in (rule or "").lower()), "other")
    steps = variables.get("approval_steps")
    return {"level": level, "rule": rule, "rule_kind": kind, "why": describe_need(variables),
            "steps": list(steps) if steps is not None else [], "round": offer.approval_round,
            "decided_on": {name: _cents(variables.get(name)) for name in DECIDED_ON}}


def _cents(value):
    """An amount or percentage of the process data as decimal text with two places; flags as they are."""
    return str(Decimal(value).quantize(Decimal("0.01"))) if isinstance(value, str) else value


def approvals(session: Session, offer_id: int) -> list[OfferApproval]:
    return list(session.scalars(select(OfferApproval).where(OfferApproval.offer_id == offer_id)
                                .order_by(OfferApproval.id)))


def offer_view(session: Session, offer: Offer, with_costs: bool) -> dict:
    """The offer with its lines and sums; costs and margins only for staff deciding on it."""
    lines = lines_of(session, offer.id)
    totals = totals_of(offer, lines)
    view = {"id": offer.id, "label": offer.label, "number": offer.number, "revision": offer.revision,
            "status": offer.status, "title": offer.title, "customer_id": offer.customer_id, "currency": offer.currency,
            "valid_until": offer.valid_until.isoformat(), "payment_days": offer.payment_days,
            "skonto_percent": _text(offer.skonto_percent), "skonto_days": offer.skonto_days,
            "delivery_terms": offer.delivery_terms, "tax_treatment": offer.tax_treatment,
            "header_discount_percent": _text(offer.header_discount_percent), "created_by": offer.created_by,
            "changed_by": offer.changed_by, "net_total": _text(totals.net_total), "tax_total": _text(totals.tax_total),
            "gross_total": _text(totals.gross_total), "content_hash": offer.content_hash,
            "tax_groups": [{"rate": _text(g.rate), "net": _text(g.net), "tax": _text(g.tax)}
                           for g in totals.tax_groups], "lines": []}
    for line in lines:
        item = {"position": line.position, "product_id": line.product_id, "sku": line.sku, "name": line.name,
                "quantity": _text(line.quantity), "unit": line.unit, "list_price": _text(line.list_price),
                "unit_price": _text(line.unit_price), "price_rule": line.price_rule,
                "discount_percent": _text(line.discount_percent), "tax_rate": _text(line.tax_rate),
                "net": _text(line.net)}
        if with_costs:
            margin, percent = line_margin(LineFigures(line.quantity, line.unit_price, line.discount_percent,
                                                      line.tax_rate, line.unit_cost))
            item.update(unit_cost=_text(line.unit_cost), margin=_text(margin), margin_percent=_text(percent))
        view["lines"].append(item)
    if with_costs:
        view.update(cost_total=_text(totals.cost_total), margin=_text(totals.margin),
                    margin_percent=_text(totals.margin_percent))
    return view


def shown(session: Session, offer: Offer, customer: Customer, lang: str) -> dict:
    """The brief's figures as people read them, in the reader's language: amounts by currency and
    locale, quantities with their units (the figures beside them stay exact decimal text)."""
    totals = totals_of(offer, lines_of(session, offer.id))

    def money(amount) -> str | None:
        return None if amount is None else formatting.money(amount, offer.currency, lang)

    return {"language": lang, "net_total": money(totals.net_total), "tax_total": money(totals.tax_total),
            "gross_total": money(totals.gross_total), "margin": money(totals.margin),
            "margin_percent": None if totals.margin_percent is None else formatting.percent(totals.margin_percent,
                                                                                             lang),
            "credit_limit": money(customer.credit_limit),
            "open_items_total": money(open_items_total(session, customer.id)),
            "lines": [{"position": line.position, "quantity": formatting.with_unit(line.quantity, line.unit, lang),
                       "unit_price": money(line.unit_price), "net": money(line.net)}
                      for line in lines_of(session, offer.id)]}


def approval_brief(session: Session, who: Principal, task, variables: dict, language: str = "de") -> dict | None:
    """What the approver (or the salesperson reworking it) sees beside the task."""
    offer = session.get(Offer, variables.get("offer_id"))
    if offer is None:
        return None
    customer = session.get(Customer, offer.customer_id)
    previous = session.get(Offer, offer.previous_id) if offer.previous_id else None
    steps = variables.get("approval_steps") or []
    step = int(variables.get("step") or 0)
    return {
        "offer": offer_view(session, offer, with_costs=True),
        "shown": shown(session, offer, customer, language),
        "approval": {"level": variables.get("approval_level"), "rule": variables.get("approval_rule"),
                     "why": describe_need(variables), "steps": steps,
                     "current_level": steps[step] if step < len(steps) else None,
                     "approver_group": variables.get("approver_group"), "escalated": bool(variables.get("escalated")),
                     "content_hash": variables.get("content_hash"),
                     "decisions": [{"level": a.level, "decision": a.decision, "reason": a.reason,
                                    "decided_by": a.decided_by, "decided_at": a.decided_at.isoformat(),
                                    "voided": a.voided_at is not None}
                                   for a in approvals(session, offer.id)]},
        "customer": {"id": customer.id, "number": customer.number, "name": customer.name,
                     "credit_limit": _text(customer.credit_limit),
                     "open_items_total": _text(open_items_total(session, customer.id)), "open_items": [],
                     "payment_days": customer.payment_days, "skonto_percent": _text(customer.skonto_percent)},
        "previous_revision": None if previous is None else {
            "id": previous.id, "label": previous.label,
            "changes": diff(content_of(previous, lines_of(session, previous.id)),
                            content_of(offer, lines_of(session, offer.id)))},
        "reply": variables.get("reply"),
        # why the customer's reply waits for a person (an unclear text, or a mail that proves nothing)
        "review_reason": (variables.get("answer") or {}).get("why") if task.spec_name == "Task_review_reply" else None,
    }


def _text(value) -> str | None:
    return None if value is None else str(value)
