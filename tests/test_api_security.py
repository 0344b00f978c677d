"""Every route of the API under /api/v1: authentication, ops-only roles, malformed bodies and the
OpenAPI document, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from domain.users import User

TOKEN_ROUTE = ("POST", "/api/v1/auth/token")
OPS_ONLY = {
    ("POST", "/api/v1/process-instances/{instance_id}/suspend"),
    ("POST", "/api/v1/process-instances/{instance_id}/resume"),
    ("POST", "/api/v1/process-instances/{instance_id}/cancel"),
    ("GET", "/api/v1/incidents"),
    ("POST", "/api/v1/incidents/{incident_id}/retry"),
    ("GET", "/api/v1/outbox"),  # and managers
    ("GET", "/api/v1/outbox/{outbox_id}"),  # and managers
    ("POST", "/api/v1/outbox/{outbox_id}/requeue"),
    ("GET", "/api/v1/timers"),
    ("POST", "/api/v1/timers/{timer_id}/reschedule"),
    ("GET", "/api/v1/offline-runs"),
}
ADMIN_ONLY = {
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{user_id}"),
    ("PUT", "/api/v1/users/{user_id}/groups"),
    ("POST", "/api/v1/users/{user_id}/deactivate"),
    ("POST", "/api/v1/users/{user_id}/reactivate"),
    ("POST", "/api/v1/users/{user_id}/password"),
    ("GET", "/api/v1/users/{user_id}/audit"),
}
# accounting's (and managers'): the direct debit runs, the tax advisor's DATEV exports, dunning
ACCOUNTING_ONLY = {
    ("GET", "/api/v1/direct-debits/{run_id}"),
    ("GET", "/api/v1/direct-debits/{run_id}/file"),
    ("GET", "/api/v1/exports/datev"),
    ("GET", "/api/v1/exports/datev/{export_id}/file"),
    ("GET", "/api/v1/dunning"),
    ("POST", "/api/v1/dunning/runs"),
    ("GET", "/api/v1/dunning/{dunning_id}"),
    ("GET", "/api/v1/dunning/letters/{letter_id}/pdf"),
}
ENDS_THE_TOKEN = ("POST", "/api/v1/me/logout-everywhere")  # reads no body, names no record
REQUIRED_PATHS = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/process-definitions": {"get"},
    "/api/v1/process-instances": {"get", "post"},
    "/api/v1/process-instances/{instance_id}": {"get"},
    "/api/v1/process-instances/{instance_id}/suspend": {"post"},
    "/api/v1/process-instances/{instance_id}/resume": {"post"},
    "/api/v1/process-instances/{instance_id}/cancel": {"post"},
    "/api/v1/tasks": {"get"},
    "/api/v1/tasks/{task_id}": {"get"},
    "/api/v1/tasks/{task_id}/claim": {"post"},
    "/api/v1/tasks/{task_id}/unclaim": {"post"},
    "/api/v1/tasks/{task_id}/delegate": {"post"},
    "/api/v1/tasks/{task_id}/complete": {"post"},
    "/api/v1/messages": {"post"},
    "/api/v1/incidents": {"get"},
    "/api/v1/incidents/{incident_id}/retry": {"post"},
    "/api/v1/offline-runs": {"get"},
    "/api/v1/outbox": {"get"},
    "/api/v1/outbox/{outbox_id}": {"get"},
    "/api/v1/outbox/{outbox_id}/requeue": {"post"},
    "/api/v1/inbound-mails": {"get"},
    "/api/v1/inbound-mails/{inbound_id}": {"get"},
    "/api/v1/inbound-mails/{inbound_id}/source": {"get"},
    "/api/v1/inbound-mails/{inbound_id}/route": {"post"},
    "/api/v1/customers": {"get", "post"},
    "/api/v1/customers/{customer_id}": {"get", "patch"},
    "/api/v1/customers/{customer_id}/sites": {"get", "post"},
    "/api/v1/customers/{customer_id}/addresses": {"get", "post"},
    "/api/v1/customers/{customer_id}/contacts": {"get", "post"},
    "/api/v1/contacts": {"get"},
    "/api/v1/contacts/{contact_id}": {"get", "patch"},
    "/api/v1/customers/{customer_id}/special-conditions": {"get", "post"},
    "/api/v1/products": {"get", "post"},
    "/api/v1/products/{product_id}": {"get", "patch"},
    "/api/v1/products/{product_id}/price": {"get"},
    "/api/v1/price-lists": {"get", "post"},
    "/api/v1/price-lists/{price_list_id}": {"get"},
    "/api/v1/price-lists/{price_list_id}/items": {"get", "post"},
    "/api/v1/leads": {"get", "post"},
    "/api/v1/leads/{lead_id}": {"get", "patch"},
    "/api/v1/leads/{lead_id}/convert": {"post"},
    "/api/v1/opportunities": {"get", "post"},
    "/api/v1/opportunities/pipeline": {"get"},
    "/api/v1/opportunities/{opportunity_id}": {"get", "patch"},
    "/api/v1/opportunities/{opportunity_id}/move": {"post"},
    "/api/v1/opportunity-phases": {"get"},
    "/api/v1/opportunity-phases/{key}": {"put"},
    "/api/v1/opportunity-groups": {"post"},
    "/api/v1/customers/{customer_id}/overview": {"get"},
    "/api/v1/customers/{customer_id}/traces": {"get"},
    "/api/v1/customers/{customer_id}/notes": {"get", "post"},
    "/api/v1/customers/{customer_id}/duplicates": {"get"},
    "/api/v1/customers/{customer_id}/merge": {"post"},
    "/api/v1/duplicates": {"get"},
    "/api/v1/activities": {"get", "post"},
    "/api/v1/activities/{activity_id}/done": {"post"},
    "/api/v1/imports": {"post"},
    "/api/v1/exports/{kind}.{fmt}": {"get"},
    "/api/v1/documents": {"get", "post"},
    "/api/v1/documents/{document_id}": {"get"},
    "/api/v1/documents/{document_id}/content": {"get"},
    "/api/v1/offers": {"get", "post"},
    "/api/v1/offers/{offer_id}": {"get", "patch", "delete"},
    "/api/v1/offers/{offer_id}/lines": {"get", "put"},
    "/api/v1/offers/{offer_id}/submit": {"post"},
    "/api/v1/offers/{offer_id}/withdraw": {"post"},
    "/api/v1/offers/{offer_id}/revisions": {"get", "post"},
    "/api/v1/offers/{offer_id}/pdf": {"get"},
    "/api/v1/orders": {"get"},
    "/api/v1/orders/{order_id}": {"get"},
    "/api/v1/orders/{order_id}/deliveries": {"get", "post"},
    "/api/v1/orders/{order_id}/billing": {"put"},
    "/api/v1/orders/{order_id}/down-payments": {"post"},
    "/api/v1/invoices": {"get", "post"},
    "/api/v1/invoices/{invoice_id}": {"get", "patch", "delete"},
    "/api/v1/invoices/{invoice_id}/issue": {"post"},
    "/api/v1/invoices/{invoice_id}/credit-notes": {"post"},
    "/api/v1/invoices/{invoice_id}/xml": {"get"},
    "/api/v1/invoices/{invoice_id}/pdf": {"get"},
    "/api/v1/customers/{customer_id}/mandates": {"get", "post"},
    "/api/v1/mandates/{mandate_id}/revoke": {"post"},
    "/api/v1/direct-debits": {"post"},
    "/api/v1/direct-debits/{run_id}": {"get"},
    "/api/v1/direct-debits/{run_id}/file": {"get"},
    "/api/v1/exports/datev": {"get", "post"},
    "/api/v1/exports/datev/{export_id}/file": {"get"},
    "/api/v1/payments": {"get", "post"},
    "/api/v1/bank-statements": {"get", "post"},
    "/api/v1/bank-statements/{statement_id}": {"get"},
    "/api/v1/open-items": {"get"},
    "/api/v1/invoices/{invoice_id}/apply-credit": {"post"},
    "/api/v1/dunning": {"get"},
    "/api/v1/dunning/runs": {"post"},
    "/api/v1/dunning/{dunning_id}": {"get"},
    "/api/v1/dunning/{dunning_id}/dispute": {"post"},
    "/api/v1/dunning/letters/{letter_id}/pdf": {"get"},
    "/api/v1/timers": {"get"},
    "/api/v1/timers/{timer_id}/reschedule": {"post"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/users/{user_id}": {"get"},
    "/api/v1/users/{user_id}/groups": {"put"},
    "/api/v1/users/{user_id}/deactivate": {"post"},
    "/api/v1/users/{user_id}/reactivate": {"post"},
    "/api/v1/users/{user_id}/password": {"post"},
    "/api/v1/users/{user_id}/audit": {"get"},
    "/api/v1/me": {"get"},
    "/api/v1/me/password": {"post"},
    "/api/v1/me/logout-everywhere": {"post"},
}


def api_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route under /api/v1, from the application's routes."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.path.startswith("/api/v1/"):
            found |= {(method, route.path) for method in route.methods - {"HEAD", "OPTIONS"}}
    return sorted(found)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def call(client, method: str, path: str, headers: dict | None = None, **kwargs):
    return client.request(method, concrete(path), headers=headers or {}, **kwargs)


def assert_error_shape(response, code: str | None = None) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "details"} <= set(error), error
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    if code is not None:
        assert error["code"] == code, error
    return error


def test_the_route_list_covers_the_whole_api(client):
    routes = api_routes(client.app)
    assert {(m.lower(), p) for m, p in routes} == {(m, p) for p, ms in REQUIRED_PATHS.items() for m in ms}


# ----------------------------------------------------------------- authentication
def _token(kontor, variant: str) -> str | None:
    now = datetime.now(timezone.utc)
    with kontor.transaction() as session:
        version = session.scalar(select(User.token_version).where(User.username == "olga"))
    claims = {"sub": "olga", "iat": now - timedelta(hours=2), "exp": now - timedelta(minutes=1), "ver": version}
    valid = {**claims, "exp": now + timedelta(hours=1)}
    return {
        "none": None,
        "garbage": "not-a-jwt",
        "expired": jwt.encode(claims, kontor.settings.signing_key(), algorithm="HS256"),
        "other_key": jwt.encode({**claims, "exp": now + timedelta(hours=1)}, "another-secret-" + "y" * 20,
                                algorithm="HS256"),
        "unsigned": jwt.encode({**claims, "exp": now + timedelta(hours=1)}, None, algorithm="none"),
        "unknown_user": jwt.encode({**claims, "sub": "mallory", "exp": now + timedelta(hours=1)},
                                   kontor.settings.signing_key(), algorithm="HS256"),
        "no_expiry": jwt.encode({k: v for k, v in valid.items() if k != "exp"}, kontor.settings.signing_key(),
                                algorithm="HS256"),
        "no_issued_at": jwt.encode({k: v for k, v in valid.items() if k != "iat"}, kontor.settings.signing_key(),
                                   algorithm="HS256"),
        "no_version": jwt.encode({k: v for k, v in valid.items() if k != "ver"}, kontor.settings.signing_key(),
                                 algorithm="HS256"),
        "older_version": jwt.encode({**valid, "ver": version - 1}, kontor.settings.signing_key(), algorithm="HS256"),
        "version_as_text": jwt.encode({**valid, "ver": str(version)}, kontor.settings.signing_key(),
                                      algorithm="HS256"),
        "version_as_float": jwt.encode({**valid, "ver": float(version)}, kontor.settings.signing_key(),
                                       algorithm="HS256"),
    }[variant]


MESSAGES = {"none": "not authenticated", "garbage": "not valid", "expired": "expired", "other_key": "not valid",
            "unsigned": "not valid", "unknown_user": "no longer exists", "no_expiry": "not valid",
            "no_issued_at": "not valid", "no_version": "not valid", "older_version": "revoked",
            "version_as_text": "revoked", "version_as_float": "revoked"}


@pytest.mark.parametrize("variant", list(MESSAGES))
def test_every_route_but_the_token_route_refuses_a_missing_or_bad_token(client, kontor, variant):
    token = _token(kontor, variant)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answers = {}
    for method, path in api_routes(client.app):
        if (method, path) == TOKEN_ROUTE:
            continue
        response = call(client, method, path, headers)
        answers[(method, path)] = response.status_code
        if response.status_code == 401:
            assert MESSAGES[variant] in assert_error_shape(response, "unauthenticated")["message"]
            assert response.headers["www-authenticate"] == "Bearer"
    assert len(answers) == sum(len(methods) for methods in REQUIRED_PATHS.values()) - 1
    assert {route: code for route, code in answers.items() if code != 401} == {}


def test_the_token_route_needs_no_token_but_the_right_password(client):
    wrong = client.post("/api/v1/auth/token", data={"username": "olga", "password": "guess-password"})
    assert wrong.status_code == 401 and assert_error_shape(wrong, "unauthenticated")
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "olga-password"})
    assert unknown.status_code == 401
    right = client.post("/api/v1/auth/token", data={"username": "olga", "password": "olga-password"})
    assert right.status_code == 200 and right.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {right.json()['access_token']}"}
    assert client.get("/api/v1/process-definitions", headers=headers).status_code == 200


# ----------------------------------------------------------------- roles
def world_ids(world) -> dict[str, str]:
    """A path parameter's value naming an existing record of the role-matrix world: customer B and
    what hangs on it are sam's, so the checks behind 'does it exist' are reached too."""
    return {"instance_id": world["instance"], "task_id": world["task"], "incident_id": world["incident"],
            "outbox_id": world["outbox"], "inbound_id": world["customer_mail"], "customer_id": world["customer_b"],
            "contact_id": world["contact"], "opportunity_id": world["opportunity"], "lead_id": world["lead"],
            "offer_id": world["offer"], "order_id": world["order"], "invoice_id": world["invoice"],
            "document_id": world["document"], "mandate_id": world["mandate"], "run_id": world["direct_debit"],
            "export_id": world["datev_export"], "statement_id": world["statement"], "dunning_id": world["dunning"],
            "letter_id": world["dunning_letter"],
            "timer_id": world["timer"], "activity_id": world["activity"], "product_id": world["product"],
            "price_list_id": world["price_list"], "user_id": world["user"], "key": "offer", "kind": "customers",
            "fmt": "csv"}


def forbidden_routes(api, user: str, ids: dict | None = None) -> set[tuple[str, str]]:
    refused = set()
    for method, path in api_routes(api.client.app):
        if (method, path) in (TOKEN_ROUTE, ENDS_THE_TOKEN):
            continue
        if ids is None:
            response = call(api.client, method, path, api.headers(user))
        else:
            response = api.client.request(method, re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path),
                                          headers=api.headers(user))
        assert response.status_code < 500, (method, path, response.text)
        if response.status_code == 403:
            assert_error_shape(response, "forbidden")
            refused.add((method, path))
    return refused


def test_ops_only_routes_refuse_a_salesperson_and_nothing_else_does(api, kontor):
    from tests.role_matrix_world import build_world

    assert forbidden_routes(api, "sam") == OPS_ONLY | ADMIN_ONLY | ACCOUNTING_ONLY  # records that do not exist
    ids = world_ids(build_world(kontor, api))
    # sam's own records: every check reached; an invoice of sam's customer is accounting's to delete (a draft),
    # a mandate of it accounting's to revoke
    assert forbidden_routes(api, "sam", ids) == OPS_ONLY | ADMIN_ONLY | ACCOUNTING_ONLY | {
        ("DELETE", "/api/v1/invoices/{invoice_id}"), ("POST", "/api/v1/mandates/{mandate_id}/revoke")}


def test_a_reviewer_may_not_send_messages_either(api):
    assert forbidden_routes(api, "rolf") == OPS_ONLY | ADMIN_ONLY | ACCOUNTING_ONLY | {("POST", "/api/v1/messages")}


def test_ops_pass_the_role_check_but_not_the_administrators_nor_accountings(api):
    assert forbidden_routes(api, "olga") == ADMIN_ONLY | ACCOUNTING_ONLY


def test_ops_routes_refuse_sam_on_a_real_instance(api):
    started = api.start_demo(user="sam")
    for action in ("suspend", "resume", "cancel"):
        response = api.post(f"/process-instances/{started['id']}/{action}", user="sam")
        assert response.status_code == 403, response.text
    assert api.instance(started["id"])["status"] == "running"


# ----------------------------------------------------------------- malformed bodies
def _request_schema(openapi: dict, method: str, path: str) -> dict | None:
    body = openapi["paths"][path][method.lower()].get("requestBody")
    if body is None or "application/json" not in body["content"]:
        return None
    schema = body["content"]["application/json"]["schema"]
    for option in schema.get("anyOf", [schema]):
        if "$ref" in option:
            return openapi["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]
    raise AssertionError(f"no schema for {method} {path}: {schema}")


def _wrong_value(prop: dict):
    allowed = {option.get("type") for option in prop.get("anyOf", [prop])}
    candidates = [("string", "text"), ("number", 12.5), ("object", {"k": "v"}), ("array", [1, 2])]
    return next(value for kind, value in candidates if kind not in allowed)


MALFORMED = {
    "invalid_json": b'{"process": "demo_request", ',
    "not_utf8": b"\xff\xfe\x00",
    "array": b"[1, 2, 3]",
    "string": b'"just text"',
    "number": b"42",
    "boolean": b"true",
    "huge_integer": b'{"ttl_seconds": ' + b"9" * 400 + b"}",
    "overflowing_float": b'{"ttl_seconds": 1e999}',
    "too_many_digits": b'{"data": {"n": ' + b"7" * 5000 + b"}}",
    "deep_nesting": b'{"data": ' + b"[" * 20000 + b"]" * 20000 + b"}",
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_bodies_never_give_500_and_keep_the_error_shape(api, kind):
    openapi = api.client.get("/openapi.json").json()
    for method, path in api_routes(api.client.app):
        if method != "POST" or (method, path) == ENDS_THE_TOKEN:
            continue
        # administrators' routes as an administrator where a body is read (none of these bodies is valid)
        who = "ada" if (method, path) in ADMIN_ONLY and _request_schema(openapi, method, path) else "olga"
        response = call(api.client, method, path, api.headers(who, {"content-type": "application/json"}),
                        content=MALFORMED[kind])
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        error = assert_error_shape(response)
        content = openapi["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
        if (method, path) == TOKEN_ROUTE or "multipart/form-data" in content:  # a form, not JSON: say so
            assert (response.status_code, error["code"]) == (415, "unsupported_media_type"), (path, error)
        elif _request_schema(openapi, method, path) is not None:
            assert response.status_code in (400, 422), (path, error)
        elif (method, path) in ADMIN_ONLY | ACCOUNTING_ONLY:  # no body to read, and not for ops
            assert (response.status_code, error["code"]) == (403, "forbidden"), (path, error)
        else:  # no body to read: the missing object answers
            assert (response.status_code, error["code"]) == (404, "not_found"), (path, error)


JSON_POSTS = ["/process-instances", "/process-instances/{instance_id}/cancel", "/tasks/{task_id}/delegate",
              "/tasks/{task_id}/complete", "/messages", "/inbound-mails/{inbound_id}/route", "/customers",
              "/customers/{customer_id}/sites", "/customers/{customer_id}/addresses",
              "/customers/{customer_id}/contacts", "/customers/{customer_id}/special-conditions",
              "/customers/{customer_id}/notes", "/customers/{customer_id}/merge", "/products", "/price-lists",
              "/price-lists/{price_list_id}/items", "/leads", "/leads/{lead_id}/convert", "/opportunities",
              "/opportunities/{opportunity_id}/move", "/opportunity-groups", "/activities", "/offers",
              "/offers/{offer_id}/submit", "/orders/{order_id}/deliveries", "/invoices",
              "/orders/{order_id}/down-payments",
              "/invoices/{invoice_id}/issue", "/invoices/{invoice_id}/credit-notes", "/payments",
              "/timers/{timer_id}/reschedule", "/users", "/users/{user_id}/password", "/me/password",
              "/customers/{customer_id}/mandates", "/direct-debits", "/exports/datev",
              "/dunning/{dunning_id}/dispute", "/invoices/{invoice_id}/apply-credit"]


def test_wrong_types_and_huge_numbers_are_listed_per_field(api):
    openapi = api.client.get("/openapi.json").json()
    checked = []
    for method, path in api_routes(api.client.app):
        schema = _request_schema(openapi, method, path) if method == "POST" else None
        if schema is None:
            continue
        props = schema["properties"]
        for body in ({name: _wrong_value(prop) for name, prop in props.items()},
                     {name: 10 ** 400 for name in props}):
            who = "ada" if (method, path) in ADMIN_ONLY else "olga"
            response = api.post(concrete(path).removeprefix("/api/v1"), body, user=who)
            assert response.status_code == 422, (path, body, response.text)
            error = assert_error_shape(response, "validation_failed")
            fields = {detail["field"] for detail in error["details"]}
            assert set(props) <= fields, (path, error["details"])
            checked.append(path.removeprefix("/api/v1"))
    # every POST that reads a JSON object, each checked with wrong types and with huge numbers
    assert sorted(checked) == sorted(2 * JSON_POSTS)


# ----------------------------------------------------------------- OpenAPI
def test_openapi_lists_every_route_with_bearer_security(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    openapi = response.json()
    paths = {path: set(ops) for path, ops in openapi["paths"].items() if path.startswith("/api/v1/")}
    assert paths == REQUIRED_PATHS
    schemes = openapi["components"]["securitySchemes"]
    [(scheme_name, scheme)] = schemes.items()
    assert scheme["type"] == "oauth2" and scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    for path, methods in REQUIRED_PATHS.items():
        for method in methods:
            security = openapi["paths"][path][method].get("security")
            if (method.upper(), path) == TOKEN_ROUTE:
                assert security is None
            else:
                assert security == [{scheme_name: []}], (method, path)
    assert "/healthz" not in openapi["paths"]


# ----------------------------------------------------------------- hostile values
ID_ROUTES = ["/process-instances/{n}", "/tasks/{n}"]


@pytest.mark.parametrize("number", [0, -1, 2**31, 2**63, 10**30])
def test_ids_beyond_the_columns_range_are_refused_by_field(api, number):
    for path in ID_ROUTES:
        response = api.get(path.format(n=number))
        assert response.status_code == 422, (path, response.text)
        [detail] = assert_error_shape(response, "validation_failed")["details"]
        assert detail["field"] in ("instance_id", "task_id"), detail
    for path in ("/tasks/{n}/claim", "/incidents/{n}/retry", "/process-instances/{n}/suspend"):
        response = api.post(path.format(n=number))
        assert response.status_code == 422, (path, response.text)


@pytest.mark.parametrize("query", ["limit=1000", "offset=-1", f"offset={2**63}", f"instance_id={2**40}",
                                   f"priority_min={10**20}", "limit=1e3"])
def test_query_numbers_out_of_range_are_refused(api, query):
    response = api.get(f"/tasks?{query}")
    assert response.status_code == 422, (query, response.text)
    assert assert_error_shape(response, "validation_failed")["details"]


HOSTILE_TEXT = {
    "nul": "Müller\x00GmbH",
    "lone_surrogate": "half \ud800 a pair",
}


def post_ascii_json(api, path: str, user: str, body: dict):
    """JSON with \\u escapes, the way a client sends text that is no valid UTF-8."""
    return api.client.post(f"/api/v1{path}", content=json.dumps(body).encode(),
                           headers=api.headers(user, {"content-type": "application/json"}))


@pytest.mark.parametrize("kind", list(HOSTILE_TEXT))
def test_text_the_database_cannot_store_is_a_422_naming_the_field(api, kind):
    text = HOSTILE_TEXT[kind]
    response = post_ascii_json(api, "/process-instances", "sam",
                               {"process": "demo_request", "data": {"request_id": "R-1", "amount": 10, "note": text}})
    assert response.status_code == 422, response.text
    [detail] = assert_error_shape(response, "validation_failed")["details"]
    assert detail["field"] == "data" and "$.note" in detail["message"], detail
    response = post_ascii_json(api, "/messages", "ivan",
                               {"name": "demo_goods_received", "correlation": {"request_id": text}})
    assert response.status_code == 422, response.text
    assert assert_error_shape(response)["details"][0]["field"] == "correlation"
    assert api.get("/process-instances").json()["total"] == 0


@pytest.mark.parametrize("kind", list(HOSTILE_TEXT))
def test_hostile_text_in_plain_string_fields_is_not_a_500(api, kind):
    response = post_ascii_json(api, "/process-instances", "sam", {
        "process": "demo_request", "business_key": HOSTILE_TEXT[kind], "data": {"request_id": "R-2", "amount": 10}})
    assert response.status_code == 422, response.text
    assert_error_shape(response, "validation_failed")
    raw_name = {"nul": "M%C3%BCller%00GmbH", "lone_surrogate": "half%20%ED%A0%80"}[kind]  # as a browser encodes it
    response = api.client.post("/api/v1/auth/token", content=f"username={raw_name}&password=xxxxxxxxx",
                               headers={"content-type": "application/x-www-form-urlencoded"})
    # a name nobody can have is answered as any unknown name, on both databases
    assert response.status_code == 401, response.text
    assert assert_error_shape(response, "unauthenticated")["message"] == "wrong user name or password"


@pytest.mark.parametrize("field, value", [("review_due", "next tuesday"), ("review_due", "P99999999999Y"),
                                          ("reminder_after", "soon")])
def test_a_date_expression_that_gives_no_date_is_a_422_and_starts_nothing(api, field, value):
    response = api.post("/process-instances", {"process": "demo_request", "business_key": f"bad-{field}",
                                               "data": {"request_id": "R-3", "amount": 50000, field: value}},
                        user="sam")
    assert response.status_code == 422, response.text
    error = assert_error_shape(response, "validation_failed")
    assert error["details"][0]["field"] == "data" and value[:8] in error["message"] + str(error["details"])
    listed = api.get("/process-instances", params={"process": "demo_request"}).json()
    assert listed["total"] == 0, listed
