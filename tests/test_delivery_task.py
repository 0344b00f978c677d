"""Deliveries recorded as a user task where a process asks for it, on SQLite and PostgreSQL: an adopter's
model with Kontor's delivery guard, completion and form; the order's salesperson records the work,
another salesperson may not, a delivery beyond the order is refused naming the line."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from runtime.deployment import deploy
from tests.conftest import TEST_BPMN_DIR
from tests.invoice_support import order_of, sales_setup
from tests.support import ensure_user, ok

ROOT = Path(__file__).resolve().parent.parent


def test_the_salesperson_records_the_work_of_an_order_as_a_user_task(kontor, api):
    with kontor.transaction() as session:
        deploy(session, kontor.runtime, [ROOT / "bpmn", TEST_BPMN_DIR, Path(__file__).parent / "bpmn_fulfilment"])
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)  # 10 hours of consulting
    started = ok(api.post("/process-instances", {"process": "test_service_delivery",
                                                 "data": {"order_id": order["id"]}}, user="sam"), 201)
    [task] = ok(api.get("/tasks", params={"instance_id": started["id"]}, user="sam"))["items"]
    assert task["name"] == "Task_record"
    line = order["lines"][0]["id"]
    ensure_user(kontor, "sven-other", ["sales"])
    work = {"data": {"lines": [{"order_line_id": line, "quantity": "4", "service_from": "2026-11-02",
                                "service_to": "2026-11-06"}], "note": "Woche 45"}}
    ok(api.post(f"/tasks/{task['id']}/complete", work, user="sven-other"), 403)  # not his customer's order
    too_much = {"data": {"lines": [{"order_line_id": line, "quantity": "11"}]}}
    refused = ok(api.post(f"/tasks/{task['id']}/complete", too_much, user="sam"), 422)
    assert refused["error"]["details"][0]["field"].startswith("lines.0")
    ok(api.post(f"/tasks/{task['id']}/complete", work, user="sam"))
    [delivery] = ok(api.get(f"/orders/{order['id']}/deliveries", user="sam"))["items"]
    assert [(Decimal(x["quantity"]), x["service_from"], x["service_to"]) for x in delivery["lines"]] == [
        (Decimal("4"), "2026-11-02", "2026-11-06")] and delivery["note"] == "Woche 45"
    assert ok(api.get(f"/orders/{order['id']}", user="sam"))["status"] == "partly_delivered"
