"""The approvers' inbox: task titles carry the offer (number, customer, amount formatted by locale),
and the inbox leaves out the tasks four eyes forbid the caller to decide (or, asked with
`include=blocked`, lists them marked), in the same few queries however many tasks it judges.
Consistent with claiming and completing. SQLite and PostgreSQL."""
from __future__ import annotations

import time
import uuid

from sqlalchemy import event

from runtime.models import HumanTask, HumanTaskGroup
from tests.offer_support import complete, new_offer, only_task, sales_setup
from tests.support import ok, set_groups


def submitted(api, setup, quantity: str, user: str = "sam") -> tuple[dict, dict]:
    offer = new_offer(api, setup, user=user,
                      lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": quantity}])
    return offer, ok(api.post(f"/offers/{offer['id']}/submit", {}, user=user))


def listed(api, user: str, **params) -> dict[int, dict]:
    return {t["id"]: t for t in ok(api.get("/tasks", user=user, params=params))["items"]}


def test_task_titles_carry_the_offers_number_customer_and_amount(kontor, api):
    setup = sales_setup(api, customer={"name": "Müller GmbH"})
    offer, sent = submitted(api, setup, "100")  # 12,000.00 net: the team lead approves
    task = only_task(api, offer, "Task_approve")
    assert task["title"] == f"Approve offer {sent['number']} · Müller GmbH · 12.000,00 €"
    assert listed(api, "tara")[task["id"]]["title"] == task["title"]
    complete(api, task, "tara", {"decision": "reject", "reason": "too cheap"})
    rework = only_task(api, offer, "Task_rework")
    assert rework["title"] == f"Rework offer {sent['number']} · Müller GmbH · 12.000,00 €"
    # reworked and resubmitted: the next task's title shows the new amount
    ok(api.put(f"/offers/{offer['id']}/lines", {"lines": [{"product_id": setup["products"]["consulting"]["id"],
                                                           "quantity": "110.5"}],
                                                "version": api.version(f"/offers/{offer['id']}")}, user="sam"))
    ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    again = only_task(api, offer, "Task_approve")
    assert again["title"] == f"Approve offer {sent['number']} · Müller GmbH · 13.260,00 €"


def test_the_inbox_leaves_out_what_four_eyes_forbid_and_shows_it_marked_when_asked(kontor, api):
    setup = sales_setup(api)
    set_groups(kontor, "sam", ["sales", "team_lead"])  # a salesperson who is a team lead as well
    try:
        own, _ = submitted(api, setup, "100")
        other, _ = submitted(api, setup, "100", user="mona")  # another author: sam may approve this one
        own_task, other_task = only_task(api, own, "Task_approve"), only_task(api, other, "Task_approve")
        inbox = listed(api, "sam")
        assert own_task["id"] not in inbox and inbox[other_task["id"]]["can_complete"] is True
        assert ok(api.get("/tasks", user="sam"))["total"] == 1
        marked = listed(api, "sam", include="blocked")
        assert marked[own_task["id"]]["can_complete"] is False
        assert "four eyes" in marked[own_task["id"]]["blocked_reason"]
        assert marked[other_task["id"]]["blocked_reason"] is None
        detail = ok(api.get(f"/tasks/{own_task['id']}", user="sam"))  # the guard itself says the same
        assert detail["can_complete"] is False and "four eyes" in detail["blocked_reason"]
        refused = api.post(f"/tasks/{own_task['id']}/claim", user="sam")
        assert refused.status_code == 403 and "four eyes" in refused.json()["error"]["message"]
        assert own_task["id"] in listed(api, "tara") and listed(api, "tara")[own_task["id"]]["can_complete"]
        # ops see every task, marked: none of the approvals is theirs to decide
        ops_view = listed(api, "olga")
        assert {own_task["id"], other_task["id"]} <= set(ops_view)
        assert ops_view[own_task["id"]]["can_complete"] is False
        assert "candidate groups" in ops_view[own_task["id"]]["blocked_reason"]
        claimed = ok(api.post(f"/tasks/{other_task['id']}/claim", user="sam"))
        assert claimed["can_complete"] is True and claimed["assignee"] == "sam"
        assert other_task["id"] not in listed(api, "tara")  # sam's now
        assert listed(api, "olga")[other_task["id"]]["blocked_reason"] == "the task is claimed by sam"
    finally:
        set_groups(kontor, "sam", ["sales"])


def test_who_submitted_an_offer_does_not_approve_it(kontor, api):
    setup = sales_setup(api)
    set_groups(kontor, "mona", ["manager", "team_lead"])  # a manager who is a team lead as well
    try:
        offer = new_offer(api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"],
                                              "quantity": "100"}])  # sam's offer
        ok(api.post(f"/offers/{offer['id']}/submit", {}, user="mona"))  # mona asks for its approval
        task = only_task(api, offer, "Task_approve")
        assert task["id"] not in listed(api, "mona")
        assert "four eyes" in listed(api, "mona", include="blocked")[task["id"]]["blocked_reason"]
        refused = api.post(f"/tasks/{task['id']}/claim", user="mona")
        assert refused.status_code == 403 and "submitted" in refused.json()["error"]["message"]
    finally:
        set_groups(kontor, "mona", ["manager"])


def test_an_approver_of_one_level_does_not_find_the_next_level_in_the_inbox(kontor, api):
    setup = sales_setup(api)
    set_groups(kontor, "tina", ["approver", "team_lead", "sales_manager"])
    try:
        offer, _ = submitted(api, setup, "250")  # 30,000.00 net: team lead, then sales manager
        complete(api, only_task(api, offer, "Task_approve"), "tina", {"decision": "approve"})
        second = only_task(api, offer, "Task_approve")
        assert second["candidate_groups"] == ["sales_manager"]
        assert second["id"] not in listed(api, "tina")
        reason = listed(api, "tina", include="blocked")[second["id"]]["blocked_reason"]
        assert "approved offer" in reason and "team lead already" in reason
        assert api.post(f"/tasks/{second['id']}/claim", user="tina").status_code == 403
        assert listed(api, "sven")[second["id"]]["can_complete"] is True
    finally:
        set_groups(kontor, "tina", ["approver", "team_lead"])


def _copies(kontor, task_id: int, count: int) -> None:
    """`count` more open approval tasks like this one (in its instance): a long inbox, made quickly."""
    with kontor.transaction() as session:
        task = session.get(HumanTask, task_id)
        columns = {c.key: getattr(task, c.key) for c in HumanTask.__table__.columns if c.key not in ("id", "task_id")}
        copies = [HumanTask(**columns, task_id=str(uuid.uuid4())) for _ in range(count)]
        session.add_all(copies)
        session.flush()
        session.add_all(HumanTaskGroup(human_task_id=c.id, group_name=g) for c in copies for g in c.candidate_groups)


def _statements(kontor, call) -> tuple[int, float, object]:
    counted = []

    def count(*args):
        counted.append(1)

    event.listen(kontor.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        result = call()
        return len(counted), time.perf_counter() - started, result
    finally:
        event.remove(kontor.engine, "before_cursor_execute", count)


def test_the_inbox_judges_a_thousand_tasks_in_the_same_few_queries_as_two(kontor, api):
    setup = sales_setup(api)
    set_groups(kontor, "sam", ["sales", "team_lead"])
    try:
        own, _ = submitted(api, setup, "100")
        other, _ = submitted(api, setup, "100", user="mona")
        own_task, other_task = only_task(api, own, "Task_approve"), only_task(api, other, "Task_approve")
        api.token("sam")
        few = _statements(kontor, lambda: ok(api.get("/tasks", user="sam", params={"limit": 200})))
        assert few[2]["total"] == 1
        _copies(kontor, own_task["id"], 1000)
        _copies(kontor, other_task["id"], 50)
        many = _statements(kontor, lambda: ok(api.get("/tasks", user="sam", params={"limit": 200})))
        assert many[2]["total"] == 51 and len(many[2]["items"]) == 51  # the 1001 of sam's own offer left out
        marked = _statements(kontor, lambda: ok(api.get("/tasks", user="sam",
                                                        params={"limit": 200, "include": "blocked"})))
        assert marked[2]["total"] == 1052
        items = marked[2]["items"]
        assert len(items) == 200 and sum(not t["can_complete"] for t in items) == 199  # own, then 198 copies
        assert all(t["can_complete"] == (t["instance_id"] == other_task["instance_id"]) for t in items)
        assert many[0] == few[0] and marked[0] <= few[0], (few[:2], many[:2], marked[:2])
        warm = _statements(kontor, lambda: ok(api.get("/tasks", user="sam", params={"limit": 200})))
        print(f"\ninbox with 1052 open approval tasks: {many[1] * 1000:.0f} ms, again {warm[1] * 1000:.0f} ms "
              f"(1001 left out), "
              f"{marked[1] * 1000:.0f} ms marked; {many[0]} statements either way")
    finally:
        set_groups(kontor, "sam", ["sales"])


def test_the_inbox_screen_and_the_guard_agree_for_every_kind_of_caller(kontor, api):
    """What the inbox leaves out is exactly what claiming would refuse: each test user (and an
    author who is a team lead) against approval tasks of two levels, one after an approval."""
    from domain.users import active_principal
    from runtime.models import ProcessInstance
    from runtime.runtime import TaskRef

    setup = sales_setup(api)
    set_groups(kontor, "sam", ["sales", "team_lead"])
    set_groups(kontor, "tina", ["approver", "team_lead", "sales_manager"])
    try:
        first, _ = submitted(api, setup, "100")
        second, _ = submitted(api, setup, "250", user="mona")
        complete(api, only_task(api, second, "Task_approve"), "tina", {"decision": "approve"})
        tasks = [only_task(api, first, "Task_approve"), only_task(api, second, "Task_approve")]
        runtime = kontor.runtime
        with kontor.transaction() as session:
            for username in ("sam", "tara", "tina", "sven", "dora", "olga", "ada", "mona", "rita"):
                who = active_principal(session, username)
                for listed_task in tasks:
                    task = session.get(HumanTask, listed_task["id"])
                    screened = runtime.guards.screen(session, who, [(task.guard, TaskRef(
                        task.id, task.instance_id, task.spec_name, tuple(task.candidate_groups)))])
                    variables = session.get(ProcessInstance, task.instance_id).variables
                    guarded = runtime.guards.refusal(task.guard, session, who, task, variables, "claim", None)
                    assert (task.id in screened) == (guarded is not None), (username, task.id, screened, guarded)
    finally:
        set_groups(kontor, "sam", ["sales"])
        set_groups(kontor, "tina", ["approver", "team_lead"])
