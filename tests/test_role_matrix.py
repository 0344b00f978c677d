"""Every operation of the OpenAPI document, called as (a) nobody, (b) a portal user of customer A on
customer B's records, (c) a salesperson who does not own customer B and (d) the least privileged
user who may, each with a valid request, so that only the access check can refuse it. The answers
must be those of the matrix (tests/role_matrix_table.py); an operation without an entry, or an entry
without an operation, fails the test. A refusal has the error shape and changes nothing; nothing a
portal user of A gets mentions customer B. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.role_matrix_table import MATRIX, Call, Entry
from tests.role_matrix_world import PORTAL_A, SECRET, STRANGER, World, build_world

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
ERROR_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}


def documented_operations(app) -> dict[tuple[str, str], dict]:
    """(METHOD, path) → the operation, for every operation of the application's OpenAPI document."""
    return {(method.upper(), path): operation for path, item in app.openapi()["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS}


def unmatched(documented: dict) -> list[str]:
    """What the matrix and the document disagree on, each named."""
    problems = [f"{m} {p}: no entry in the role matrix" for m, p in documented if (m, p) not in MATRIX]
    problems += [f"{m} {p}: in the role matrix, but no such operation" for m, p in MATRIX if (m, p) not in documented]
    for key, entry in MATRIX.items():
        if key in documented and str(entry.ok) not in documented[key]["responses"]:
            problems.append(f"{key[0]} {key[1]}: {entry.may} gets {entry.ok}, which the operation does not document")
    return problems


def send(api, method: str, call: Call, user: str | None):
    response = api.client.request(method, f"/api/v1{call.path}", headers=api.headers(user), json=call.json,
                                  params=call.params, data=call.form, files=call.files)
    if call.ends_tokens and user is not None:
        api.forget(user)
    return response


def judge(response, who: str, expected: int) -> list[str]:
    """What is wrong with this answer to this caller."""
    wrong = []
    if response.status_code != expected:
        wrong.append(f"{who}: {response.status_code} instead of {expected}: {response.text[:300]}")
    if response.status_code >= 400:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) and set(body) == {"error"} else None
        if not (isinstance(error, dict) and {"code", "message", "details"} <= set(error)
                and isinstance(error["details"], list) and error["message"]):
            wrong.append(f"{who}: not the error shape: {body}")
        elif error["code"] != ERROR_CODES.get(response.status_code, error["code"]):
            wrong.append(f"{who}: error code {error['code']} for {response.status_code}")
    if who == PORTAL_A and SECRET in response.text + str(response.headers):
        wrong.append(f"{who}: the answer shows customer B's records: {response.text[:300]}")
    return wrong


def walk(api, world: World, method: str, entry: Entry) -> tuple[list[str], int]:
    """Every caller of the entry in turn: (what went wrong, how many requests were sent)."""
    call = entry.call(world)
    before = api.get(call.probe, user="olga").json() if call.probe else None
    callers = [("nobody", None, entry.anonymous), (PORTAL_A, PORTAL_A, entry.portal),
               (STRANGER, STRANGER, entry.stranger), (entry.may, entry.may, entry.ok)]
    wrong, refused_so_far = [], True
    for who, user, expected in callers:
        if refused_so_far and expected < 400 and before is not None:
            after = api.get(call.probe, user="olga").json()
            if after != before:
                wrong.append(f"a refused attempt changed {call.probe}: {before} → {after}")
        refused_so_far = refused_so_far and expected >= 400
        wrong += judge(send(api, method, call, user), who, expected)
    return wrong, len(callers)


@pytest.mark.xdist_group("role_matrix")
def test_every_operation_answers_each_caller_as_the_matrix_says(kontor, api):
    documented = documented_operations(api.client.app)
    problems = unmatched(documented)
    assert not problems, "\n".join(problems)
    world = build_world(kontor, api)
    wrong, sent = [], 0
    for method, path in documented:
        found, requests = walk(api, world, method, MATRIX[(method, path)])
        wrong += [f"{method} {path}: {problem}" for problem in found]
        sent += requests
    assert not wrong, "\n".join(wrong)
    assert sent == 4 * len(MATRIX) and len(MATRIX) >= 94
