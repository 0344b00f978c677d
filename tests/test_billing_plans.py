"""How orders are invoiced (their billing plan), on SQLite and PostgreSQL: once complete; by
milestones — down-payment invoices, then a final invoice deducting them (EN 16931 BT-113, each down
payment named as a preceding invoice); recurring lines per period, each period once."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.einvoicing.hybrid_pdf import read_figures
from domain.invoicing.milestones import add_months
from tests.invoice_support import deliver, draft, issue, order_of, sales_setup
from tests.support import ok

SENDS = pytest.mark.usefixtures("mail")  # the worker sends the invoices over SMTP


@SENDS
def test_an_order_invoiced_once_complete_waits_for_its_last_delivery(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup)
    ok(api.put(f"/orders/{order['id']}/billing", {"billing_plan": "on_completion"}, user="sam"))
    deliver(api, order, {1: "4"}, service_from="2026-11-02")
    answer = ok(api.post("/invoices", {"order_id": order["id"]}, user="alma"), 409)
    assert "once everything is delivered" in answer["error"]["message"]
    deliver(api, order, {1: "6"}, service_from="2026-11-09")
    [invoice] = draft(api, order_id=order["id"])
    assert [(Decimal(li["quantity"]), li["service_from"]) for li in invoice["lines"]] == [
        (Decimal(4), "2026-11-02"), (Decimal(6), "2026-11-09")]


@SENDS
def test_down_payments_then_a_final_invoice_that_deducts_them(kontor, api):
    setup = sales_setup(api)
    order = order_of(kontor, api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "10"},
                                                {"product_id": setup["products"]["book"]["id"], "quantity": "10"}])
    bad = ok(api.put(f"/orders/{order['id']}/billing", {"billing_plan": "milestones", "milestones": [
        {"label": "bei Auftrag", "percent": "60"}, {"label": "nach Abnahme", "percent": "40"}]}, user="sam"), 422)
    assert bad["error"]["details"][0]["field"] == "milestones"
    [first, _] = ok(api.put(f"/orders/{order['id']}/billing", {"billing_plan": "milestones", "milestones": [
        {"label": "bei Auftrag", "percent": "30"}, {"label": "nach Abnahme Phase 1", "percent": "20"}]}, user="sam"))
    down = ok(api.post(f"/orders/{order['id']}/down-payments", {"milestone_id": first["id"]},
                       user="alma"), 201)
    # 30 % of 1,200.00 at 19 % and of 399.00 at 7 %
    assert [(li["net"], li["tax_rate"]) for li in down["lines"]] == [("360.00", "19.00"), ("119.70", "7.00")]
    ok(api.post(f"/orders/{order['id']}/down-payments", {"milestone_id": first["id"]}, user="alma"), 409)
    down = issue(kontor, api, down)
    assert down["kind"] == "down_payment" and down["gross_total"] == "556.48"  # 360 + 68.40 + 119.70 + 8.38
    assert read_figures(api.get(f"/invoices/{down['id']}/xml", user="alma").content).type_code == "386"

    deliver(api, order, {1: "10", 2: "10"})
    [final] = draft(api, order_id=order["id"])
    final = issue(kontor, api, final)
    assert final["gross_total"] == "1854.93"  # 1,200.00 + 228.00 + 399.00 + 27.93
    assert (final["prepaid_total"], final["amount_due"]) == ("556.48", "1298.45")
    figures = read_figures(api.get(f"/invoices/{final['id']}/xml", user="alma").content)
    assert (figures.prepaid, figures.amount_due) == (Decimal("556.48"), Decimal("1298.45"))
    assert down["number"].encode() in api.get(f"/invoices/{final['id']}/xml", user="alma").content  # BG-3


@SENDS
def test_a_recurring_line_is_billed_per_period_each_period_once(kontor, api):
    setup = sales_setup(api)
    product = ok(api.post("/products", {"sku": f"MS-{setup['price_list']['code']}", "name_de": "Managed Service",
                                        "unit": "month", "tax_rate": "19", "billing_interval": "month"},
                          user="mona"), 201)
    ok(api.post(f"/price-lists/{setup['price_list']['id']}/items", {"product_id": product["id"], "tiers": [
        {"min_quantity": "1", "unit_price": "450.00"}]}, user="mona"), 201)
    order = order_of(kontor, api, setup, lines=[{"product_id": product["id"], "quantity": "1"}])
    assert order["lines"][0]["billing_interval"] == "month"
    answer = ok(api.post(f"/orders/{order['id']}/deliveries", {"lines": [
        {"order_line_id": order["lines"][0]["id"], "quantity": "1"}]}, user="sam"), 422)
    assert "per period" in answer["error"]["details"][0]["message"]
    [invoice] = draft(api, order_id=order["id"])
    start = date.fromisoformat(order["created_at"][:10])
    [line] = invoice["lines"]
    assert (line["service_from"], line["service_to"]) == (start.isoformat(),
                                                          (add_months(start, 1) - timedelta(days=1)).isoformat())
    ok(api.post("/invoices", {"order_id": order["id"]}, user="alma"), 409)  # this period is held by the draft


def test_months_are_added_as_calendars_do():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
