"""What the offer process needs from the runtime: its service operations, the guards of its human
tasks and the brief shown beside its tasks."""
from __future__ import annotations

from functools import partial

from domain.offers import approval, operations
from domain.offers.access import editable_offer
from domain.offers.queries import approval_brief


def register(app) -> None:
    runtime = app.runtime
    operations.register(runtime.operations, app)
    runtime.guards.register("offers.approval", partial(approval.guard_approval, settings=app.settings))
    runtime.guards.register("offers.rework", partial(approval.guard_rework, settings=app.settings))
    runtime.guards.register("offers.review_reply", approval.guard_review_reply)
    runtime.task_views[approval.PROCESS] = approval_brief
    runtime.domain_processes.add(approval.PROCESS)  # started by POST /offers/{id}/submit only
    runtime.domain_messages.add("offer_reply")  # from the mail intake and the customer's link only
    for record_type in ("offer", "offer_approval"):  # a reply to an offer's or its approvers' mail, routed by hand
        app.mail_records.register(record_type, editable_offer)
