"""The submit answer says which approval level the rules (bpmn/offer_approval_level.dmn) asked for,
why (the rule's words and kind) and on which facts; the offer keeps saying it. SQLite and PostgreSQL."""
from __future__ import annotations

from tests.offer_support import new_offer, sales_setup
from tests.support import ok


def submit(api, offer) -> dict:
    return ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))


def test_the_submit_answer_names_the_level_the_rule_and_the_facts(api):
    setup = sales_setup(api)
    consulting = setup["products"]["consulting"]["id"]
    small = new_offer(api, setup)
    assert small["approval_need"] is None  # a draft: nothing asked yet
    need = submit(api, small)["approval_need"]
    assert (need["level"], need["rule_kind"], need["steps"], need["round"]) == ("none", None, [], 1)
    assert need["why"] == "no approval needed"

    big = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": "250"}])
    need = submit(api, big)["approval_need"]
    assert (need["level"], need["rule"], need["rule_kind"]) == ("sales_manager", "net total above 25,000", "amount")
    assert need["steps"] == ["team_lead", "sales_manager"] and need["why"].startswith("sales manager")
    assert need["decided_on"]["net_total"] == "30000.00" and need["decided_on"]["over_credit_limit"] is False
    assert ok(api.get(f"/offers/{big['id']}", user="sam"))["approval_need"] == need

    discounted = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": "10", "discount_percent": "15"}])
    need = submit(api, discounted)["approval_need"]
    assert (need["level"], need["rule_kind"], need["steps"]) == ("team_lead", "discount", ["team_lead"])
    assert need["rule"] == "a line discount above 10 %" and need["decided_on"]["max_line_discount"] == "15.00"
