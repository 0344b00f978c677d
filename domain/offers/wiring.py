"""What the offer process needs from the runtime: its service operations, the guards of its human
tasks and the brief shown beside its tasks; and what it registers with the mail package (its mails'
templates, who may route a reply to an offer by hand) and the documents (offers take them)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from domain.offers import approval, operations
from domain.offers.access import editable_offer
from domain.offers.models import Offer
from domain.offers.queries import approval_brief


def register(kontor) -> None:
    runtime = kontor.runtime
    operations.register(runtime.operations, kontor)
    runtime.guards.register("offers.approval", partial(approval.guard_approval, settings=kontor.settings))
    runtime.guards.register("offers.rework", partial(approval.guard_rework, settings=kontor.settings))
    runtime.guards.register("offers.review_reply", approval.guard_review_reply)
    runtime.task_views[approval.PROCESS] = approval_brief
    runtime.domain_processes.add(approval.PROCESS)  # started by POST /offers/{id}/submit only
    runtime.domain_messages.add("offer_reply")  # from the mail intake and the customer's link only
    for record_type in ("offer", "offer_approval"):  # a reply to an offer's or its approvers' mail, routed by hand
        kontor.mail_routes.register_record(record_type, editable_offer)
    kontor.mail_templates.register(Path(__file__).parent / "mail_templates")  # offer, reminders, order confirmation
    kontor.document_owners.register("offer", Offer)
