"""Who may work a human task is checked where the effect happens: delegating hands a task only to
a member of staff who is one of its candidates, completing needs that membership at the moment of
completion, and an approval needs the approval level's own group, whoever holds the task. Tried as
the attacker would: ops, a plain salesperson, a portal user of another customer, the creator, the
delegate, and oneself. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.offer_support import new_offer, only_task, sales_setup
from tests.support import ensure_user, ok, set_groups


def approval_task(api, setup, user: str = "sam") -> tuple[dict, dict]:
    """An offer of 100 consulting hours (team-lead approval), submitted: (the offer, its approval task)."""
    offer = new_offer(api, setup, user=user,
                      lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "100"}])
    ok(api.post(f"/offers/{offer['id']}/submit", {}, user=user))
    task = only_task(api, offer, "Task_approve")
    assert task["candidate_groups"] == ["team_lead"]
    return offer, task


def other_customers_portal_user(kontor, api) -> str:
    other = ok(api.post("/customers", {"name": "Fremdkunde AG"}, user="sam"), 201)
    return ensure_user(kontor, "paula-portal", ["portal"], customer_id=other["id"])


def approvals(api, offer) -> list:
    return ok(api.get(f"/offers/{offer['id']}", user="olga"))["approvals"]


@pytest.mark.parametrize("delegate", ["olga", "sam", "portal"])
def test_an_approval_cannot_be_delegated_outside_its_candidate_groups(kontor, api, delegate):
    setup = sales_setup(api)
    offer, task = approval_task(api, setup)
    delegate = other_customers_portal_user(kontor, api) if delegate == "portal" else delegate
    ok(api.post(f"/tasks/{task['id']}/claim", user="tara"))
    refused = api.post(f"/tasks/{task['id']}/delegate", {"assignee": delegate}, user="tara")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "assignee"
    assert ok(api.get(f"/tasks/{task['id']}", user="tara"))["assignee"] == "tara"
    # ops, who may delegate any task, cannot hand it to such a user either
    assert api.post(f"/tasks/{task['id']}/delegate", {"assignee": delegate}, user="olga").status_code == 422
    assert api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}},
                    user=delegate).status_code in (403, 404)
    assert approvals(api, offer) == []


def test_delegating_does_not_tell_whether_a_user_exists(kontor, api):
    """Nobody and a staff member outside the candidate groups get the same answer: a task holder
    cannot use delegation to learn the user names."""
    setup = sales_setup(api)
    _, task = approval_task(api, setup)
    ok(api.post(f"/tasks/{task['id']}/claim", user="tara"))
    answers = [api.post(f"/tasks/{task['id']}/delegate", {"assignee": name}, user="tara") for name in ("sam", "nobody")]
    assert [answer.status_code for answer in answers] == [422, 422]
    [(error_sam, detail_sam), (error_nobody, detail_nobody)] = [
        (a.json()["error"]["message"], a.json()["error"]["details"][0]["message"]) for a in answers]
    assert error_sam == error_nobody == "the task cannot go to this user"
    assert detail_sam.replace("sam", "X") == detail_nobody.replace("nobody", "X")


def test_ops_cannot_make_itself_the_approver_by_delegating_to_itself(kontor, api):
    setup = sales_setup(api)
    offer, task = approval_task(api, setup)
    refused = api.post(f"/tasks/{task['id']}/delegate", {"assignee": "olga"}, user="olga")
    assert refused.status_code == 422, refused.text
    refused = api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="olga")
    assert refused.status_code == 403, refused.text
    assert approvals(api, offer) == []


def test_a_delegate_in_the_candidate_group_approves(kontor, api):
    setup = sales_setup(api)
    offer, task = approval_task(api, setup)
    ok(api.post(f"/tasks/{task['id']}/claim", user="tara"))
    ok(api.post(f"/tasks/{task['id']}/delegate", {"assignee": "tina"}, user="tara"))
    assert api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}},
                    user="tara").status_code == 403  # she gave it away
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="tina"))
    [approval] = approvals(api, offer)
    assert (approval["decided_by"], approval["level"], approval["decision"]) == ("tina", "team_lead", "approved")


def test_completing_needs_the_group_at_the_moment_of_completion(kontor, api):
    setup = sales_setup(api)
    offer, task = approval_task(api, setup)
    ok(api.post(f"/tasks/{task['id']}/claim", user="tina"))
    set_groups(kontor, "tina", ["approver"])  # no longer a team lead
    try:
        refused = api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="tina")
        assert refused.status_code == 403, refused.text
        assert approvals(api, offer) == []
    finally:
        set_groups(kontor, "tina", ["approver", "team_lead"])
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="tina"))


def test_the_approval_guard_checks_the_levels_group_whoever_holds_the_task(kontor, api):
    """An admin may work tasks of any group, but approving at a level is that level's group's
    right: the guard refuses an admin, and an assignee put there by any path."""
    setup = sales_setup(api)
    offer, task = approval_task(api, setup)
    ensure_user(kontor, "ada-admin", ["admin"])
    # the guard is asked before the task goes to anyone: an admin may hold tasks, not this one
    refused = api.post(f"/tasks/{task['id']}/delegate", {"assignee": "ada-admin"}, user="olga")
    assert refused.status_code == 422 and "team_lead" in refused.json()["error"]["details"][0]["message"]
    from runtime.models import HumanTask

    with kontor.transaction() as session:  # held by an admin, as data written before that check would have it
        session.get(HumanTask, task["id"]).assignee = "ada-admin"
    refused = api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="ada-admin")
    assert refused.status_code == 403 and "team_lead" in refused.json()["error"]["message"], refused.text
    # an assignee outside the group, as data written before delegation was checked would have it
    with kontor.transaction() as session:
        session.get(HumanTask, task["id"]).assignee = "sam"
    refused = api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="sam")
    assert refused.status_code == 403, refused.text
    assert approvals(api, offer) == []


def test_a_portal_user_sees_no_task_even_when_assigned_one(kontor, api):
    setup = sales_setup(api)
    offer, task = approval_task(api, setup)
    paula = other_customers_portal_user(kontor, api)
    from runtime.models import HumanTask

    with kontor.transaction() as session:  # as an earlier delegation could have left it
        session.get(HumanTask, task["id"]).assignee = paula
    missing = api.get(f"/tasks/{task['id']}", user=paula)
    assert missing.status_code == 404 and "margin" not in missing.text and "credit_limit" not in missing.text
    assert ok(api.get("/tasks", user=paula, params={"scope": "mine"}))["items"] == []
    assert api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}},
                    user=paula).status_code == 404
    assert approvals(api, offer) == []


def test_the_salesperson_the_process_names_works_the_task_outside_its_lane(kontor, api):
    """A task the model assigns (the rework goes to whoever submitted) may be worked by that user
    even if they are not in the lane's group: the model named them."""
    setup = sales_setup(api)
    offer, task = approval_task(api, setup, user="mona")  # a manager, not in the group "sales"
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "reject", "reason": "too cheap"}},
                user="tara"))
    rework = only_task(api, offer, "Task_rework")
    assert rework["assignee"] == "mona" and rework["candidate_groups"] == ["sales"]
    ok(api.post(f"/tasks/{rework['id']}/complete", {"data": {"decision": "withdraw"}}, user="mona"))
