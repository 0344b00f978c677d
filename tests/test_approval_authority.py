"""The offer approval cannot be talked round by the one it checks: every author of an offer's content
is refused as its approver, a special price counts as the discount it is, and the terms and credit
limit a salesperson sets on their own customer widen nothing. SQLite and PostgreSQL."""
from __future__ import annotations

from tests.offer_support import new_offer, only_task, open_tasks, sales_setup
from tests.support import ok, set_groups


def submitted(api, offer, user: str = "sam") -> dict:
    return ok(api.post(f"/offers/{offer['id']}/submit", {}, user=user))


def approval_level(api, offer) -> str:
    fresh = ok(api.get(f"/offers/{offer['id']}", user="olga"))
    return ok(api.get(f"/process-instances/{fresh['instance_id']}", user="olga"))["variables"]["approval_level"]


def test_nobody_who_wrote_the_content_approves_it_even_if_another_changed_it_last(kontor, api):
    setup = sales_setup(api)
    consulting = setup["products"]["consulting"]["id"]
    set_groups(kontor, "rita", ["reviewer", "sales", "team_lead"])
    customer = setup["customer"]["id"]
    ok(api.edit(f"/customers/{customer}", {"owner": None}, user="mona"))  # anyone in sales may work on it
    try:
        offer = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": "10"}])
        ok(api.put(f"/offers/{offer['id']}/lines", {"lines": [{"product_id": consulting, "quantity": "100",
                                                                "discount_percent": "15"}],
                                                     "version": offer["version"]}, user="rita"))
        ok(api.edit(f"/offers/{offer['id']}", {"title": "Final"}, user="sam"))  # sam changed it last
        submitted(api, offer)
        task = only_task(api, offer, "Task_approve")
        refused = api.post(f"/tasks/{task['id']}/claim", user="rita")
        assert refused.status_code == 403 and "four eyes" in refused.json()["error"]["message"], refused.text
        ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="tara"))
    finally:
        set_groups(kontor, "rita", ["reviewer", "sales"])


def test_a_special_price_counts_as_the_discount_it_is(kontor, api):
    setup = sales_setup(api)
    consulting = setup["products"]["consulting"]["id"]
    customer = setup["customer"]["id"]
    plain = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": "5", "discount_percent": "50"}])
    submitted(api, plain)
    ok(api.post(f"/customers/{customer}/special-conditions", {"product_id": consulting, "kind": "discount_percent",
                                                               "value": "50"}, user="sam"), 201)
    special = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": "10"}])
    assert ok(api.get(f"/offers/{special['id']}", user="sam"))["net_total"] == "600.00"
    submitted(api, special)
    assert approval_level(api, special) == approval_level(api, plain) != "none"
    assert open_tasks(api, special)


def test_terms_a_salesperson_sets_on_their_own_customer_widen_nothing(kontor, api):
    setup = sales_setup(api)
    customer = ok(api.get(f"/customers/{setup['customer']['id']}", user="sam"))
    ok(api.edit(f"/customers/{customer['id']}", {"payment_days": 90, "credit_limit": "10000000.00"}, user="sam"))
    ninety = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "8"}])
    assert ok(api.get(f"/offers/{ninety['id']}", user="sam"))["payment_days"] == 90
    submitted(api, ninety)
    assert approval_level(api, ninety) != "none"
    big = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "450"}])
    ok(api.edit(f"/offers/{big['id']}", {"payment_days": 30}, user="sam"))
    submitted(api, big)  # 54,000 net, 64,260 gross: beyond the standard credit limit of 50,000
    instance_id = ok(api.get(f"/offers/{big['id']}", user="olga"))["instance_id"]
    assert ok(api.get(f"/process-instances/{instance_id}", user="olga"))["variables"]["over_credit_limit"] is True
    # set by a manager, the customer's own terms count
    ok(api.edit(f"/customers/{customer['id']}", {"payment_days": 90}, user="mona"))
    approved_terms = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"],
                                                   "quantity": "8"}])
    submitted(api, approved_terms)
    assert approval_level(api, approved_terms) == "none"
