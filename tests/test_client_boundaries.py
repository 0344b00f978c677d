"""What API callers can reach beyond their own: message ids live in each caller's namespace, portal
users neither start processes nor read internal traces, client data has a size limit, and a
refusal never tells whether something the caller may not see exists. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from domain.customers.timeline import customer_trace_kinds, record_trace
from tests.support import ensure_user, ok

CONFIRMATION = "demo_supplier_confirmation"


def portal_user_of(kontor, api, name: str = "Kunde Eigen GmbH") -> tuple[str, dict]:
    customer = ok(api.post("/customers", {"name": name}, user="sam"), 201)
    return ensure_user(kontor, "pia-portal", ["portal"], customer_id=customer["id"]), customer


# ---------------------------------------------------------------- message ids
@pytest.mark.parametrize("reserved", ["offer-link:1", "mail:<abc@example.test>", "client:x:y"])
def test_kontors_own_message_ids_are_reserved(api, reserved):
    refused = api.post("/messages", {"name": CONFIRMATION, "correlation": {"request_id": "R-x"},
                                     "message_id": reserved, "ttl_seconds": 31536000}, user="sam")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "message_id"


def test_a_message_id_is_the_callers_own_and_reveals_nobody_elses(api):
    first = ok(api.post("/messages", {"name": CONFIRMATION, "correlation": {"request_id": "R-sam"},
                                      "message_id": "shared-1", "data": {"secret": "sam's"}}, user="sam"), 202)
    assert (first["message_id"], first["duplicate"]) == ("shared-1", False)
    other = ok(api.post("/messages", {"name": "demo_goods_received", "correlation": {"request_id": "R-ivan"},
                                      "message_id": "shared-1"}, user="ivan"), 202)
    assert (other["message_id"], other["name"], other["duplicate"]) == ("shared-1", "demo_goods_received", False)
    again = ok(api.post("/messages", {"name": CONFIRMATION, "correlation": {"request_id": "R-sam"},
                                      "message_id": "shared-1"}, user="sam"), 202)
    assert (again["duplicate"], again["name"]) == (True, CONFIRMATION)


def test_a_squatted_id_does_not_block_the_customers_link_answer(kontor, api):
    """The ids Kontor gives its own messages cannot be taken by a caller, whatever it sends."""
    from kernel.principal import Principal
    from runtime.clients import stored_message_id

    assert stored_message_id(Principal("sam", frozenset({"sales"})), "1") != "offer-link:1"
    assert stored_message_id(Principal("sam", frozenset()), "x") != stored_message_id(Principal("ivan", frozenset()),
                                                                                         "x")


# ---------------------------------------------------------------- portal users and processes
def test_portal_users_start_no_process_and_see_none(kontor, api):
    portal, _ = portal_user_of(kontor, api)
    started = api.start_demo(user="sam", request_id="R-portal")
    refused = api.post("/process-instances", {"process": "demo_request", "data": {"amount": 1, "request_id": "R-p"}},
                       user=portal)
    assert refused.status_code == 403, refused.text
    assert ok(api.get("/process-instances", user=portal))["items"] == []
    assert api.get(f"/process-instances/{started['id']}", user=portal).status_code == 404
    assert api.post("/messages", {"name": CONFIRMATION, "correlation": {"request_id": "R-portal"}},
                    user=portal).status_code == 403


def test_portal_users_do_not_read_the_process_models(kontor, api):
    portal, _ = portal_user_of(kontor, api)
    refused = api.get("/process-definitions", user=portal)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", refused.text
    assert "demo_request" not in refused.text
    assert {d["process_key"] for d in ok(api.get("/process-definitions", user="ivan"))} >= {"demo_request",
                                                                                           "offer_approval"}


@pytest.mark.parametrize("where", ["start", "message", "task"])
def test_client_data_has_a_size_limit(kontor, api, where):
    big = {"note": "x" * (kontor.settings.process_data_max_bytes + 1)}
    if where == "start":
        response = api.post("/process-instances", {"process": "demo_request", "data": {
            "amount": 5000, "request_id": "R-big", **big}}, user="sam")
    elif where == "message":
        response = api.post("/messages", {"name": CONFIRMATION, "correlation": {"request_id": "R-big"}, "data": big},
                            user="ivan")
    else:
        task = api.open_task(api.start_demo(user="sam", amount=5000)["id"])
        response = api.post(f"/tasks/{task['id']}/complete", {"data": {"approved": True, **big}}, user="rita")
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and str(kontor.settings.process_data_max_bytes) in error["message"]
    assert error["details"][0]["field"] == "data"


def test_another_users_business_key_answers_as_an_unknown_instance_would(kontor, api):
    started = api.start_demo(user="sam", business_key="BK-sam-1")
    ensure_user(kontor, "otto-sales", ["sales"])
    taken = api.post("/process-instances", {"process": "demo_request", "business_key": "BK-sam-1",
                                            "data": {"amount": 1, "request_id": "R-otto"}}, user="otto-sales")
    assert taken.status_code == 404, taken.text
    assert str(started["id"]) not in taken.text and "sam" not in taken.text
    assert api.post("/process-instances", {"process": "demo_request", "business_key": "BK-sam-1",
                                           "data": {"amount": 1, "request_id": "R-sam"}},
                    user="sam").json()["id"] == started["id"]


# ---------------------------------------------------------------- what portal users read
def test_portal_users_see_only_the_trace_kinds_meant_for_customers(kontor, api):
    portal, customer = portal_user_of(kontor, api)
    internal = ["offer_rejected", "offer_approved", "offer_submitted", "offer_approval_voided", "note_added",
                "phase_change", "opportunity_lost", "mail_received", "order_not_confirmed", "a_kind_added_later"]
    with kontor.transaction() as session:
        for kind in (*internal, *customer_trace_kinds()):
            record_trace(session, customer["id"], kind, "dora", f"{kind}: INTERNAL: customer pays late")
    seen = {t["kind"] for t in ok(api.get(f"/customers/{customer['id']}/traces", user=portal,
                                          params={"limit": 100}))["items"]}
    assert seen == set(customer_trace_kinds())
    overview = ok(api.get(f"/customers/{customer['id']}/overview", user=portal))
    assert {t["kind"] for t in overview["last_traces"]} <= set(customer_trace_kinds())
    staff = {t["kind"] for t in ok(api.get(f"/customers/{customer['id']}/traces", user="sam",
                                           params={"limit": 100}))["items"]}
    assert staff == {*internal, *customer_trace_kinds()}


def test_portal_users_see_their_customer_without_kontors_internal_view_of_it(kontor, api):
    """Credit limit, owner, the pipeline and the reasons behind special conditions are Kontor's own."""
    portal, customer = portal_user_of(kontor, api)
    cid = customer["id"]
    ok(api.patch(f"/customers/{cid}", {"credit_limit": "25000", "version": customer["version"]}, user="mona"))
    ok(api.post("/opportunities", {"customer_id": cid, "title": "Ausbau", "amount": "9000"}, user="sam"), 201)
    ok(api.post(f"/customers/{cid}/special-conditions", {"kind": "discount_percent", "value": "5",
                                                          "note": "INTERNAL: droht zu kündigen"}, user="sam"), 201)
    staff = ok(api.get(f"/customers/{cid}", user="sam"))
    assert (staff["credit_limit"], staff["owner"]) == ("25000.00", "sam")
    for seen in (ok(api.get(f"/customers/{cid}", user=portal)),
                 ok(api.get("/customers", user=portal))["items"][0],
                 ok(api.get(f"/customers/{cid}/overview", user=portal))["customer"]):
        assert (seen["id"], seen["credit_limit"], seen["owner"]) == (cid, None, None)
    assert ok(api.get(f"/customers/{cid}/overview", user=portal))["open_opportunities"] == []
    assert ok(api.get(f"/customers/{cid}/overview", user="sam"))["open_opportunity_amount"] == "9000.00"
    assert api.get("/opportunities", user=portal).status_code == 404
    assert api.get("/opportunities/pipeline", user=portal).status_code == 403
    [condition] = ok(api.get(f"/customers/{cid}/special-conditions", user=portal))["items"]
    assert (condition["value"], condition["note"], condition["created_by"]) == ("5.00", None, None)
    assert ok(api.get(f"/customers/{cid}/special-conditions", user="sam"))["items"][0]["created_by"] == "sam"
    refused = api.patch(f"/customers/{cid}", {"name": "Neu", "version": staff["version"]}, user=portal)
    assert refused.status_code == 403 and "sam" not in refused.text


@pytest.mark.parametrize("path", ["/contacts/{id}", "/opportunities/{id}", "/documents/{id}"])
def test_a_refusal_reads_exactly_like_a_record_that_does_not_exist(kontor, api, path):
    portal, _ = portal_user_of(kontor, api)
    other = ok(api.post("/customers", {"name": "Fremdkunde AG"}, user="sam"), 201)
    made = {
        "/contacts/{id}": lambda: api.post(f"/customers/{other['id']}/contacts", {"last_name": "Geheim"}, user="sam"),
        "/opportunities/{id}": lambda: api.post("/opportunities", {"customer_id": other["id"], "title": "Geheim",
                                                                   "amount": "1"}, user="sam"),
        "/documents/{id}": lambda: api.post("/documents", files={"file": ("a.txt", b"geheim", "text/plain")},
                                            data={"owner_type": "customer", "owner_id": str(other["id"])}, user="sam"),
    }[path]()
    assert made.status_code == 201, made.text
    hidden, missing = made.json()["id"], 2_000_000_000
    seen = api.get(path.format(id=hidden), user=portal)
    unknown = api.get(path.format(id=missing), user=portal)
    assert seen.status_code == unknown.status_code == 404
    assert seen.json() == {"error": {**unknown.json()["error"],
                                     "message": unknown.json()["error"]["message"].replace(str(missing), str(hidden))}}
    if path == "/contacts/{id}":  # and a change is refused the same way
        changed, unknown = (api.patch(path.format(id=i), {"role": "x"}, user=portal) for i in (hidden, missing))
        assert changed.status_code == unknown.status_code == 404
        assert changed.json()["error"]["message"] == f"contact {hidden} not found"
