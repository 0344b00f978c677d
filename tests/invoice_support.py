"""Helpers of the invoicing tests: an order made from a submitted offer, deliveries, drafts, issue."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from domain.offers.models import Offer
from domain.orders.commands import create_order_from_offer
from tests.offer_support import drive, new_offer, sales_setup
from tests.support import ok

__all__ = ["sales_setup", "order_of", "deliver", "draft", "release", "issue", "drive"]


def order_of(kontor, api, setup, lines: list | None = None, **fields) -> dict:
    """An order from an offer of `lines` (default 10 hours of consulting), as accepted by the customer."""
    offer = new_offer(api, setup, lines=lines, **fields)
    ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    with kontor.transaction() as session:
        row = session.scalar(select(Offer).where(Offer.id == offer["id"]).with_for_update())
        order_id = create_order_from_offer(session, row, date.today().year, "salesperson", "sam").id
    return ok(api.get(f"/orders/{order_id}", user="alma"))


def deliver(api, order: dict, quantities: dict[int, str], user: str = "sam", **days) -> dict:
    """Deliver `quantities` per line position (1, 2 …) of the order."""
    by_position = {line["position"]: line["id"] for line in order["lines"]}
    lines = [{"order_line_id": by_position[position], "quantity": quantity, **days}
             for position, quantity in quantities.items()]
    return ok(api.post(f"/orders/{order['id']}/deliveries", {"lines": lines}, user=user), 201)


def draft(api, user: str = "alma", **which) -> list[dict]:
    return ok(api.post("/invoices", which, user=user), 201)


def release(api, invoice: dict, user: str = "alma") -> dict:
    """Release the draft for issue: its order-to-invoice process starts (202)."""
    return ok(api.post(f"/invoices/{invoice['id']}/issue", {"version": invoice["version"]}, user=user), 202)


APPROVERS = {"manager": "mona", "accounting": "arne"}  # of whatever the rules ask, someone who did not release it


def approval_tasks(api, instance_id: int) -> list[dict]:
    return [task for task in ok(api.get("/tasks", params={"instance_id": instance_id}, user="ada"))["items"]
            if task["name"] == "Task_approve"]


def issue(kontor, api, invoice: dict, user: str = "alma") -> dict:
    """Release the draft, approve it where the rules ask for it (as another person), and let the worker
    (real Prefect flow runs) issue, render and send it."""
    released = release(api, invoice, user)
    drive(kontor)
    for task in approval_tasks(api, released["instance_id"]):
        approver = APPROVERS[task["candidate_groups"][0]]
        ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user=approver))
        drive(kontor)
    issued = ok(api.get(f"/invoices/{invoice['id']}", user=user))
    assert issued["status"] == "issued", (released, issued)
    return issued


def issue_now(kontor, api, invoice: dict, user: str = "alma") -> dict:
    """Issue the draft at once, without its process (for tests of what comes after the issue)."""
    from domain.invoicing.files import issue_with_files
    from kernel.principal import Principal

    with kontor.transaction() as session:
        issue_with_files(session, kontor, Principal(user, frozenset({"accounting"})), invoice["id"])
    return ok(api.get(f"/invoices/{invoice['id']}", user=user))
