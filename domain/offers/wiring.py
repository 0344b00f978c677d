"""What the offer process needs from the runtime: its service operations, the guards of its human
tasks and the brief shown beside its tasks."""
from __future__ import annotations

from domain.offers import approval, operations
from domain.offers.queries import approval_brief


def register(kontor) -> None:
    runtime = kontor.runtime
    operations.register(runtime.operations, kontor)
    runtime.guards.register("offers.approval", approval.guard_approval)
    runtime.guards.register("offers.rework", approval.guard_rework)
    runtime.guards.register("offers.review_reply", approval.guard_review_reply)
    runtime.task_views[approval.PROCESS] = approval_brief
