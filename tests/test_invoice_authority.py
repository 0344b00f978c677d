"""What a member of accounting may not do alone, on SQLite and PostgreSQL: bill more than was delivered,
credit more than was invoiced, change a down payment's amount unmarked, approve a draft they changed,
write an invoice off as Skonto it never offered, read dunning letters without being accounting."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.dunning_support import case_of, dunning_run, overdue_invoice
from tests.invoice_support import approval_tasks, deliver, draft, drive, issue_now, order_of, release, sales_setup
from tests.support import ok


def line_change(api, invoice: dict, status: int = 200, **fields) -> dict:
    line = invoice["lines"][0]
    return ok(api.patch(f"/invoices/{invoice['id']}", {"version": invoice["version"],
                                                       "lines": [{"id": line["id"], **fields}]}, user="alma"), status)


def test_a_draft_never_bills_more_than_was_delivered_and_a_credit_note_never_credits_more(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)  # 10 hours ordered
    deliver(api, order, {1: "1"})
    [invoice] = draft(api, order_id=order["id"])
    refused = line_change(api, invoice, 422, quantity="150")
    assert refused["error"]["details"] == [{"field": "lines.0.quantity",
                                            "message": "at most the 1 hour delivered and not yet invoiced"}]
    fewer = line_change(api, invoice, quantity="0.5")
    assert Decimal(fewer["lines"][0]["quantity"]) == Decimal("0.5") and fewer["manual_prices"] is False
    issued = issue_now(kontor, api, fewer)
    note = ok(api.post(f"/invoices/{issued['id']}/credit-notes", {"reason": "x", "lines": [
        {"invoice_line_id": issued["lines"][0]["id"], "quantity": "0.1"}]}, user="alma"), 201)
    refused = line_change(api, note, 422, quantity="7")
    assert refused["error"]["details"][0]["field"] == "lines.0.quantity"
    refused = line_change(api, note, 422, unit_price="999.00")
    assert refused["error"]["details"][0]["field"] == "lines.0.unit_price"
    assert line_change(api, note, quantity="0.5")["lines"][0]["net"] == "60.00"  # all of it: within the invoice


def test_a_down_payment_changed_by_hand_is_marked_for_the_managers_approval(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    [first] = ok(api.put(f"/orders/{order['id']}/billing", {"billing_plan": "milestones", "milestones": [
        {"label": "bei Auftrag", "percent": "30"}]}, user="sam"))
    down = ok(api.post(f"/orders/{order['id']}/down-payments", {"milestone_id": first["id"]}, user="alma"), 201)
    changed = line_change(api, down, unit_price="20000.00")
    assert changed["manual_prices"] is True and changed["lines"][0]["price_changed"] is True


def test_whoever_changed_a_draft_does_not_approve_it(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    [invoice] = draft(api, order_id=order["id"])
    changed = ok(api.patch(f"/invoices/{invoice['id']}", {"version": invoice["version"], "note": "Projekt"},
                           user="arne"))
    released = release(api, changed)  # by alma: the customer's first invoice asks another accountant
    drive(kontor)
    [task] = approval_tasks(api, released["instance_id"])
    brief = ok(api.get(f"/tasks/{task['id']}", user="alma"))["context"]  # what accounting reads beside it
    assert brief["approval"] == {"group": "accounting", "rule": "first invoice of this customer",
                                 "not_by": ["alma", "arne"]}
    assert brief["invoice"]["status"] == "released" and brief["invoice"]["editors"] == ["arne"]
    assert brief["invoice"]["gross_total"] == "1428.00" and len(brief["invoice"]["lines"]) == 1
    assert brief["customer"]["first_invoice"] is True
    refused = ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="arne"), 403)
    assert "four eyes" in refused["error"]["message"]
    assert ok(api.get(f"/invoices/{invoice['id']}", user="alma"))["status"] == "released"


def test_skonto_is_at_most_what_the_invoice_offered(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    [invoice] = draft(api, order_id=order["id"])
    issued = issue_now(kontor, api, invoice)  # no Skonto terms: 1,428.00
    payment = {"customer_id": setup["customer"]["id"], "amount": "0.01", "booking_date": date.today().isoformat(),
               "allocations": [{"invoice_id": issued["id"], "amount": "0.01", "skonto": "1427.99"}]}
    refused = ok(api.post("/payments", payment, user="alma"), 422)
    assert refused["error"]["details"] == [{"field": "allocations.0.skonto", "message": (
        f"invoice {issued['number']} offers no Skonto: correct it by a credit note")}]


def test_dunning_letters_are_read_by_accounting_only(kontor, api):
    setup = sales_setup(api, customer={"payment_days": 14}, contact={"receives": ["offers", "invoices", "dunning"]})
    invoice = overdue_invoice(kontor, api, setup)
    dunning_run(kontor)
    drive(kontor)
    [letter] = case_of(api, invoice)["letters"]
    for user, status in (("sam", 403), ("olga", 403), ("alma", 200), ("mona", 200)):
        response = api.get(f"/documents/{letter['document_id']}/content", user=user)
        assert response.status_code == status, (user, response.text[:200])
