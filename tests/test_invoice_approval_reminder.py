"""An invoice approval still open when it is due (invoice_approval.dmn: approval_due, P2D) reminds the
approver group by mail, once per member, and leaves the task where it is; the task carries its due
date. On SQLite and PostgreSQL, with the real outbox and Dovecot."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.invoice_support import approval_tasks, deliver, draft, drive, order_of, release, sales_setup
from tests.mailbox import inbox, wait_for_mail
from tests.support import ok


def test_an_approval_that_is_due_reminds_the_approvers_once(kontor, api, mail):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    [invoice] = draft(api, order_id=order["id"])
    released = release(api, invoice)  # the customer's first invoice: another accountant approves it
    drive(kontor)
    [task] = approval_tasks(api, released["instance_id"])
    assert task["candidate_groups"] == ["accounting"]
    due = datetime.fromisoformat(task["due_at"])
    assert timedelta(days=2) - timedelta(minutes=5) < due - datetime.fromisoformat(task["created_at"]) \
        <= timedelta(days=2)
    before = len(inbox(mail, "arne@kontor.test"))
    [timer] = [t for t in ok(api.get("/timers", params={"instance_id": released["instance_id"]}, user="olga"))["items"]
               if t["spec_name"] == "Boundary_approval_reminder"]
    ok(api.post(f"/timers/{timer['id']}/reschedule", {"due_at": datetime.now(timezone.utc).isoformat()}, user="olga"))
    drive(kontor)
    received = wait_for_mail(mail, "arne@kontor.test", before + 1)
    assert len(received) == before + 1
    assert received[-1]["Subject"].startswith("Freigabe fällig: Rechnung draft ")
    assert [t["id"] for t in approval_tasks(api, released["instance_id"])] == [task["id"]]  # still there
    assert ok(api.get("/timers", params={"instance_id": released["instance_id"]}, user="olga"))["items"] == []
