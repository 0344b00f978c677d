"""The administration of users through /api/v1/users (administrators only) and /api/v1/me (every
user): portal users with their customer, one-time passwords changed at the first login, groups,
deactivation and its tokens, the audit of every change, and the guards against locking out; on
SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest

from tests.support import ok

ADMIN = "ada"


def unique(prefix: str) -> str:
    """Staff users outlive a test (the test users are kept): a name of this test alone."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def login(api, name: str, password: str):
    return api.client.post("/api/v1/auth/token", data={"username": name, "password": password})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def create(api, **body) -> dict:
    body = {"password": "first-password-1", "groups": ["sales"], **body}
    return ok(api.post("/users", body, user=ADMIN), 201)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def fields(response, status: int = 422) -> dict:
    return {d["field"]: d["message"] for d in error_of(response, status)["details"]}


def audit(api, user_id: int) -> list[tuple]:
    items = ok(api.get(f"/users/{user_id}/audit", user=ADMIN))["items"]
    return [(e["kind"], e["actor"], e["details"]) for e in reversed(items)]


def test_a_portal_user_is_created_for_a_customer_and_changes_the_one_time_password_first(api):
    customer = ok(api.post("/customers", {"name": "Portal Kunde GmbH"}, user="mona"), 201)
    other = ok(api.post("/customers", {"name": "Andere Kunde GmbH"}, user="mona"), 201)
    paula = create(api, username="paula", groups=["portal"], customer_number=customer["number"],
                   full_name="Paula Portal", email="paula@kunde.example", phone="+49 711 1234")
    assert (paula["customer_id"], paula["groups"], paula["must_change_password"], paula["active"]) == (
        customer["id"], ["portal"], True, True)

    signed_in = ok(login(api, "paula", "first-password-1"))
    assert signed_in["password_change_required"] is True
    first = bearer(signed_in["access_token"])
    refused = error_of(api.client.get("/api/v1/customers", headers=first), 403)
    assert "change your one-time password first" in refused["message"] and refused["password_change_required"]
    me = ok(api.client.get("/api/v1/me", headers=first))
    assert me == {"username": "paula", "full_name": "Paula Portal", "email": "paula@kunde.example",
                  "phone": "+49 711 1234", "groups": ["portal"], "customer_id": customer["id"],
                  "customer_number": customer["number"], "customer_name": "Portal Kunde GmbH",
                  "must_change_password": True}

    changed = ok(api.client.post("/api/v1/me/password", headers=first,
                                 json={"current_password": "first-password-1", "new_password": "paulas-own-2"}))
    assert changed["must_change_password"] is False
    assert error_of(api.client.get("/api/v1/me", headers=first), 401)["code"] == "unauthenticated"  # revoked
    signed_in = ok(login(api, "paula", "paulas-own-2"))
    assert signed_in["password_change_required"] is False
    customers = ok(api.client.get("/api/v1/customers", headers=bearer(signed_in["access_token"])))
    assert [c["id"] for c in customers["items"]] == [customer["id"]]  # her customer's only, not `other`
    assert other["id"] != customer["id"]
    assert [kind for kind, *_ in audit(api, paula["id"])] == ["user_created", "password_changed"]


@pytest.mark.parametrize("body, field, words", [
    ({"groups": ["portal"]}, "customer", "a portal user belongs to one customer"),
    ({"groups": ["sales"], "customer_id": "own"}, "customer", "only portal users belong to a customer"),
    ({"groups": ["portal", "sales"], "customer_id": "own"}, "groups", "a portal user has no other group"),
    ({"groups": ["portal"], "customer_number": "V-999999"}, "customer", "there is no customer V-999999"),
    ({"groups": ["portal"], "customer_id": "own", "customer_number": "V-000001"}, "customer_number", "not both"),
    ({"username": "cli"}, "username", "reserved"),
    ({"password": "short"}, "password", "at least 8 characters"),
    ({"email": "nicht-gueltig"}, "email", "not a valid e-mail address"),
    ({"groups": []}, "groups", "at least 1 item"),
])
def test_a_user_that_does_not_fit_is_refused_naming_the_field(api, body, field, words):
    customer = ok(api.post("/customers", {"name": "Kunde für Prüfung"}, user="mona"), 201)
    body = {"username": unique("neu"), "groups": ["sales"], **body}
    if body.get("customer_id") == "own":
        body["customer_id"] = customer["id"]
    before = ok(api.get("/users", user=ADMIN))["total"]
    found = fields(api.post("/users", {"password": "first-password-1", **body}, user=ADMIN))
    assert words in found[field], found
    assert ok(api.get("/users", user=ADMIN))["total"] == before


def test_a_name_is_taken_once(api):
    name = unique("zwei")
    create(api, username=name)
    assert "exists already" in error_of(api.post("/users", {"username": name, "password": "another-pass-2",
                                                            "groups": ["sales"]}, user=ADMIN), 409)["message"]


def test_users_are_listed_filtered_searched_and_paged(api):
    customer = ok(api.post("/customers", {"name": "Liste Kunde GmbH"}, user="mona"), 201)
    tag = uuid.uuid4().hex[:6]
    made = [create(api, username=f"list-{tag}-{i}", groups=groups, full_name=f"Liste {tag} {i}")
            for i, groups in enumerate([["sales"], ["sales", "approver"], ["sales_manager"]])]
    portal = create(api, username=f"list-{tag}-p", groups=["portal"], customer_id=customer["id"])
    ok(api.post(f"/users/{made[0]['id']}/deactivate", user=ADMIN))

    def names(**params) -> list[str]:
        return [u["username"] for u in ok(api.get("/users", params={"q": tag, **params}, user=ADMIN))["items"]]

    assert names() == [f"list-{tag}-{s}" for s in ("0", "1", "2", "p")]
    assert names(group="sales") == [f"list-{tag}-0", f"list-{tag}-1"]  # not sales_manager
    assert names(group="sales", active="true") == [f"list-{tag}-1"]
    assert names(active="false") == [f"list-{tag}-0"]
    assert names(customer_id=customer["id"]) == [portal["username"]]
    assert names(sort="-username", limit=2, offset=1) == [f"list-{tag}-2", f"list-{tag}-1"]
    assert ok(api.get("/users", params={"q": tag.upper()}, user=ADMIN))["total"] == 4  # case does not matter
    assert ok(api.get(f"/users/{portal['id']}", user=ADMIN))["customer_id"] == customer["id"]
    assert error_of(api.get("/users/999999", user=ADMIN), 404)["code"] == "not_found"
    assert "sort" in fields(api.get("/users", params={"sort": "password_hash"}, user=ADMIN))


def test_groups_change_with_the_version_read_and_take_effect_at_once(api):
    name = unique("gruppen")
    user = create(api, username=name, password="group-password-1")
    ok(api.post("/me/password", {"current_password": "group-password-1", "new_password": "group-password-2"},
                headers=bearer(ok(login(api, name, "group-password-1"))["access_token"]), user=None))
    token = bearer(ok(login(api, name, "group-password-2"))["access_token"])
    assert api.client.get("/api/v1/outbox", headers=token).status_code == 403

    changed = ok(api.put(f"/users/{user['id']}/groups", {"groups": ["sales", "ops"], "version": user["version"]},
                         user=ADMIN))
    assert (changed["groups"], changed["version"]) == (["ops", "sales"], user["version"] + 1)
    assert api.client.get("/api/v1/outbox", headers=token).status_code == 200  # the same token, new groups
    stale = error_of(api.put(f"/users/{user['id']}/groups", {"groups": ["sales"], "version": user["version"]},
                             user=ADMIN), 409)
    assert "changed meanwhile" in stale["message"] and stale["version"] == changed["version"]
    assert "version" in fields(api.put(f"/users/{user['id']}/groups", {"groups": ["sales"]}, user=ADMIN))
    assert "customer" in fields(api.put(f"/users/{user['id']}/groups", {"groups": ["portal"],
                                                                        "version": changed["version"]}, user=ADMIN))
    assert ("groups_changed", ADMIN, {"from": ["sales"], "to": ["ops", "sales"]}) in audit(api, user["id"])


def test_a_deactivated_user_cannot_log_in_and_its_tokens_stop_working(api):
    name = unique("weg")
    user = create(api, username=name)
    ok(api.post(f"/users/{user['id']}/password", {"password": "second-password-2"}, user=ADMIN))
    token = bearer(ok(login(api, name, "second-password-2"))["access_token"])
    assert ok(api.client.get("/api/v1/me", headers=token))["username"] == name

    gone = ok(api.post(f"/users/{user['id']}/deactivate", user=ADMIN))
    assert gone["active"] is False
    assert error_of(api.client.get("/api/v1/me", headers=token), 401)["code"] == "unauthenticated"
    assert login(api, name, "second-password-2").status_code == 401
    assert ok(api.post(f"/users/{user['id']}/deactivate", user=ADMIN))["active"] is False  # once is enough

    assert ok(api.post(f"/users/{user['id']}/reactivate", user=ADMIN))["active"] is True
    assert api.client.get("/api/v1/me", headers=token).status_code == 401  # tokens from before stay void
    assert ok(api.client.get("/api/v1/me", headers=bearer(ok(login(api, name, "second-password-2"))["access_token"])))
    kinds = [(kind, actor) for kind, actor, _ in audit(api, user["id"]) if kind != "login_failed"]
    assert kinds == [("user_created", ADMIN), ("password_reset", ADMIN), ("user_deactivated", ADMIN),
                     ("user_reactivated", ADMIN)]


def test_a_one_time_password_ends_the_sessions_and_must_be_changed(api):
    name = unique("vergessen")
    user = create(api, username=name)
    first = bearer(ok(login(api, name, "first-password-1"))["access_token"])
    ok(api.post("/me/password", {"current_password": "first-password-1", "new_password": "my-own-password"},
                headers=first, user=None))
    own = bearer(ok(login(api, name, "my-own-password"))["access_token"])

    reset = ok(api.post(f"/users/{user['id']}/password", {"password": "one-time-pass-3"}, user=ADMIN))
    assert reset["must_change_password"] is True
    assert api.client.get("/api/v1/me", headers=own).status_code == 401
    assert login(api, name, "my-own-password").status_code == 401
    assert ok(login(api, name, "one-time-pass-3"))["password_change_required"] is True
    assert "password" in fields(api.post(f"/users/{user['id']}/password", {"password": "kurz"}, user=ADMIN))
    assert ("password_reset", ADMIN, {"one_time": True}) in audit(api, user["id"])


def test_an_admin_cannot_lock_themselves_out(api):
    me = next(u for u in ok(api.get("/users", params={"q": ADMIN, "group": "admin"}, user=ADMIN))["items"]
              if u["username"] == ADMIN)
    refused = fields(api.post(f"/users/{me['id']}/deactivate", user=ADMIN))
    assert "administrators cannot deactivate themselves" in refused["user"]
    refused = fields(api.put(f"/users/{me['id']}/groups", {"groups": ["sales"], "version": me["version"]},
                             user=ADMIN))
    assert "cannot remove the admin group of themselves" in refused["user"]
    assert "change their own password themselves" in fields(api.post(
        f"/users/{me['id']}/password", {"password": "new-admin-pass-1"}, user=ADMIN))["user"]
    after = ok(api.get(f"/users/{me['id']}", user=ADMIN))
    assert (after["active"], after["groups"], after["version"]) == (True, ["admin"], me["version"])


@pytest.mark.parametrize("who", ["sam", "olga", "mona", "portal"])
def test_only_admins_administer_users(api, kontor, who):
    from tests.support import ensure_user

    if who == "portal":
        customer = ok(api.post("/customers", {"name": "Fremd GmbH"}, user="mona"), 201)
        who = ensure_user(kontor, unique("pia"), ["portal"], customer_id=customer["id"])
    target = create(api, username=unique("ziel"))
    calls = [("GET", "/users", None), ("POST", "/users", {"username": unique("x"), "password": "long-enough-1",
                                                         "groups": ["admin"]}),
             ("GET", f"/users/{target['id']}", None), ("GET", f"/users/{target['id']}/audit", None),
             ("PUT", f"/users/{target['id']}/groups", {"groups": ["admin"], "version": target["version"]}),
             ("POST", f"/users/{target['id']}/deactivate", None), ("POST", f"/users/{target['id']}/reactivate", None),
             ("POST", f"/users/{target['id']}/password", {"password": "taken-over-1"})]
    for method, path, body in calls:
        response = api.client.request(method, f"/api/v1{path}", json=body, headers=api.headers(who))
        assert error_of(response, 403)["message"] == "this needs one of the roles: admin", path
    assert ok(api.get(f"/users/{target['id']}", user=ADMIN)) == target
    assert ok(api.get("/me", user=who))["username"] == who  # everyone has /me


def test_nobody_changes_their_own_groups_through_me(api):
    name = unique("selbst")
    create(api, username=name, password="selbst-password-1")
    token = bearer(ok(login(api, name, "selbst-password-1"))["access_token"])
    assert api.client.patch("/api/v1/me", json={"groups": ["admin"]}, headers=token).status_code == 405
    assert api.client.put("/api/v1/me", json={"groups": ["admin"]}, headers=token).status_code == 405
    extra = api.client.post("/api/v1/me/password", headers=token, json={
        "current_password": "selbst-password-1", "new_password": "selbst-password-2", "groups": ["admin"]})
    assert "groups" in fields(extra)
    assert ok(api.client.get("/api/v1/me", headers=token))["groups"] == ["sales"]


def test_a_wrong_current_password_counts_as_a_failed_login(api):
    name = unique("rate")
    user = create(api, username=name, password="right-password-1")
    token = bearer(ok(login(api, name, "right-password-1"))["access_token"])
    wrong = api.client.post("/api/v1/me/password", headers=token,
                            json={"current_password": "guess-password", "new_password": "whatever-new-1"})
    assert fields(wrong) == {"current_password": "is not the current password"}
    assert "new_password" in fields(api.client.post("/api/v1/me/password", headers=token, json={
        "current_password": "right-password-1", "new_password": "right-password-1"}))
    assert ok(api.client.get("/api/v1/me", headers=token))["must_change_password"] is True  # nothing changed
    failed = [e for e in ok(api.get(f"/users/{user['id']}/audit", params={"kind": "login_failed"},
                                    user=ADMIN))["items"]]
    assert [e["reason"] for e in failed] == ["wrong current password at a password change"]


def test_log_out_everywhere_ends_every_token_of_mine(api):
    name = unique("ueberall")
    user = create(api, username=name, password="every-password-1")
    tokens = [bearer(ok(login(api, name, "every-password-1"))["access_token"]) for _ in range(2)]
    assert ok(api.client.post("/api/v1/me/logout-everywhere", headers=tokens[0]))["username"] == name
    assert all(api.client.get("/api/v1/me", headers=t).status_code == 401 for t in tokens)
    assert ok(login(api, name, "every-password-1"))
    assert audit(api, user["id"])[-1] == ("logged_out_everywhere", None, None)


def test_a_password_change_keeps_nothing_for_an_idempotency_key(api, kontor):
    from sqlalchemy import func, select

    from runtime.idempotency import IdempotencyRecord

    name = unique("schluessel")
    create(api, username=name, password="keyed-password-1")
    token = bearer(ok(login(api, name, "keyed-password-1"))["access_token"])
    ok(api.client.post("/api/v1/me/password", headers={**token, "Idempotency-Key": "pw-1"},
                       json={"current_password": "keyed-password-1", "new_password": "keyed-password-2"}))
    created = api.post("/users", {"username": unique("mit-key"), "password": "first-password-1",
                                  "groups": ["sales"]}, user=ADMIN, headers={"Idempotency-Key": "new-user-1"})
    assert created.status_code == 201
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1  # the user's creation only
