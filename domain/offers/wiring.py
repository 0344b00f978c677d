"""What the offer process registers once Kontor is built: with the runtime its service operations,
the guards and completions of its human tasks and the brief shown beside its tasks; with the mail
package who may route a reply to an offer by hand (its mails' templates are declared in its
module); and that offers take documents."""
from __future__ import annotations

from functools import partial

from domain.offers import approval, commands, operations
from domain.offers.access import editable_offer
from domain.offers.models import Offer
from domain.offers.queries import approval_brief


def register(kontor) -> None:
    runtime = kontor.runtime
    operations.register(runtime.operations, kontor)
    runtime.guards.register("offers.approval", partial(approval.guard_approval, settings=kontor.settings),
                            screen=approval.screen_approvals)  # the inbox leaves out what four eyes forbid
    runtime.guards.register("offers.rework", partial(approval.guard_rework, settings=kontor.settings))
    runtime.guards.register("offers.review_reply", approval.guard_review_reply)
    # what completing those tasks decides; models deployed before this split name only the guard
    runtime.completions.register("offers.record_approval", approval.record_approval,
                                 formerly_in_guard="offers.approval")
    runtime.completions.register("offers.record_rework", partial(approval.record_rework, settings=kontor.settings),
                                 formerly_in_guard="offers.rework")
    runtime.completions.register("offers.record_review_reply", partial(
        commands.record_review_reply, runtime=runtime, settings=kontor.settings))
    runtime.register_task_view(approval.PROCESS, approval_brief)
    # a reply to an offer's, its approvers' or its salesperson's mail, routed by hand
    for record_type in ("offer", "offer_approval", "offer_notice"):
        kontor.mail_routes.register_record(record_type, editable_offer)
    kontor.document_owners.register("offer", Offer)
