"""Order to cash end to end, on SQLite and PostgreSQL, with the real worker, Prefect, WeasyPrint and the
outbox: an offer becomes an order; two partial deliveries become two invoices (issued weeks ago, so
that they are due now); a bank statement brings one full payment, one that deducts Skonto after its
last day (the difference stays open) and one that no rule explains (a clarification task); the daily
dunning run duns the rest through the reminder and the first to the second dunning letter; the customer
pays it and dunning stops."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.dunning_support import case_of, dunning_run, issued_on, time_is_up
from tests.invoice_support import deliver, draft, drive, order_of, sales_setup
from tests.payment_support import camt, entry, imported, open_of
from tests.support import ok

pytestmark = pytest.mark.usefixtures("prefect")
TODAY = date.today()


def test_offer_to_order_to_two_invoices_to_a_statement_to_dunning_and_the_payment_that_stops_it(kontor, api):
    setup = sales_setup(api, customer={"payment_days": 14},
                        contact={"receives": ["offers", "invoices", "dunning"]})
    customer = setup["customer"]["id"]
    order = order_of(kontor, api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"],
                                                 "quantity": "20"}])
    deliver(api, order, {1: "10"})
    [first] = draft(api, order_id=order["id"])
    first = issued_on(kontor, api, first, TODAY - timedelta(days=60))
    deliver(api, order, {1: "10"})
    [second] = draft(api, order_id=order["id"])
    second = ok(api.patch(f"/invoices/{second['id']}", {"skonto_percent": "2", "skonto_days": 10,
                                                        "version": second["version"]}, user="alma"))
    second = issued_on(kontor, api, second, TODAY - timedelta(days=45))
    assert (first["gross_total"], second["gross_total"], second["skonto_amount"]) == ("1428.00", "1428.00", "28.56")
    assert ok(api.get(f"/orders/{order['id']}", user="alma"))["status"] == "invoiced"

    statement = imported(kontor, api, camt([
        entry("E-1", "1428.00", text=f"Rechnung {first['number']}", booked=TODAY - timedelta(days=3)),
        entry("E-2", "1399.44", text=f"{second['number']} abzgl. 2 % Skonto", booked=TODAY - timedelta(days=3)),
        entry("E-3", "99.00", text="Spende", payer="Unbekannt", payer_iban="DE44500105175407324931",
              booked=TODAY - timedelta(days=3))]))
    assert [line["outcome"] for line in statement["lines"]] == ["matched", "partial", "unmatched"]
    drive(kontor)
    clarifications = [t for t in ok(api.get("/tasks", user="alma"))["items"] if t["name"] == "Task_clarify"]
    assert len(clarifications) == 1
    assert open_of(api, customer)["items"] == {second["number"]: "28.56"}  # the Skonto taken too late

    assert dunning_run(kontor)["started"] == [second["number"]]
    drive(kontor)
    case = case_of(api, second)
    assert [(x["kind"], x["open_amount"]) for x in case["letters"]] == [("reminder", "28.56")]
    time_is_up(kontor, api, case)
    case = case_of(api, second)
    assert [x["kind"] for x in case["letters"]] == ["reminder", "dunning_1"]
    dunning_letter = case["letters"][1]
    assert dunning_letter["flat_fee"] == "40.00"
    assert Decimal(dunning_letter["total_claim"]) == Decimal("68.56") + Decimal(dunning_letter["interest"])
    time_is_up(kontor, api, case)
    case = case_of(api, second)
    assert [x["kind"] for x in case["letters"]] == ["reminder", "dunning_1", "dunning_2"]
    second_letter = case["letters"][2]
    assert second_letter["flat_fee"] == "0.00"  # the flat fee is claimed once
    assert Decimal(second_letter["total_claim"]) == Decimal("68.56") + Decimal(second_letter["interest"])
    assert Decimal(second_letter["interest"]) >= Decimal(dunning_letter["interest"])

    ok(api.post("/payments", {"customer_id": customer, "amount": "28.56", "booking_date": TODAY.isoformat(),
                              "reference": f"Rest {second['number']}"}, user="alma"), 201)
    case = case_of(api, second)
    assert case["status"] == "settled" and len(case["letters"]) == 3
    assert open_of(api, customer)["items"] == {}
    assert ok(api.get("/timers", params={"instance_id": case["instance_id"]}, user="olga"))["items"] == []
