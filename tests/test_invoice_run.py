"""The periodic invoicing run (Rechnungslauf) as a real Prefect flow run, on SQLite and PostgreSQL: a
monthly subscription's period that began is drafted and released (its process asks the approval the
rules want, issues it and mails it); the next run finds nothing; a customer the issue check refuses
keeps its draft and the run names why."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest

from flows.invoice_runs import run_invoicing
from flows.worker import quiet_flow_settings
from tests.invoice_support import approval_tasks, drive, order_of, sales_setup
from tests.support import ok
from tests.test_flows import _flow_runs

pytestmark = pytest.mark.usefixtures("prefect", "mail")  # the worker sends the invoice over SMTP


def subscription(api, setup) -> dict:
    product = ok(api.post("/products", {"sku": f"MS-{setup['price_list']['code']}", "name_de": "Managed Service",
                                        "unit": "month", "tax_rate": "19", "billing_interval": "month"},
                          user="mona"), 201)
    ok(api.post(f"/price-lists/{setup['price_list']['id']}/items", {"product_id": product["id"], "tiers": [
        {"min_quantity": "1", "unit_price": "450.00"}]}, user="mona"), 201)
    return product


def invoice_run() -> dict:
    with quiet_flow_settings():
        return run_invoicing()


def test_a_begun_subscription_period_is_drafted_released_and_issued_once(kontor, api):
    setup = sales_setup(api)
    product = subscription(api, setup)
    order = order_of(kontor, api, setup, lines=[{"product_id": product["id"], "quantity": "1"}])
    broken = sales_setup(api, customer={"name": "Ohne Adresse GmbH", "main_address": None})
    other = order_of(kontor, api, broken, lines=[{"product_id": subscription(api, broken)["id"], "quantity": "1"}])
    since = datetime.now(timezone.utc)
    run = invoice_run()
    [released] = run["released"]
    assert list(run["left_as_draft"]) and all("address" in why for why in run["left_as_draft"].values()), run
    [(flow_run, _)] = asyncio.run(_flow_runs("invoice-run", since))
    assert flow_run.name == f"invoice run {date.today().isoformat()}: 1 released, 1 left as draft"
    [listed] = ok(api.get("/invoices", params={"customer_id": setup["customer"]["id"]}, user="alma"))["items"]
    invoice = ok(api.get(f"/invoices/{listed['id']}", user="alma"))
    assert (invoice["status"], invoice["order_id"], released) == ("released", order["id"], f"draft {invoice['id']}")
    drive(kontor)
    [task] = approval_tasks(api, invoice["instance_id"])  # the customer's first invoice: another accountant
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="arne"))
    drive(kontor)
    issued = ok(api.get(f"/invoices/{invoice['id']}", user="alma"))
    assert issued["status"] == "issued" and issued["gross_total"] == "535.50"
    assert invoice_run()["released"] == []  # the period is invoiced: nothing is due again this month
    [kept] = ok(api.get("/invoices", params={"customer_id": broken["customer"]["id"]}, user="alma"))["items"]
    assert kept["status"] == "draft" and kept["order_id"] == other["id"]
