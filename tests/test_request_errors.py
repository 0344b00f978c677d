"""What a client that sent something wrong reads: a body that is not JSON says why and where, a
field with a required form says it in words (never as a regular expression), and a login sent as
JSON says that the login is a form post; on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.support import ok


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def messages(response) -> dict:
    return {d["field"]: d["message"] for d in error_of(response, 422)["details"]}


@pytest.mark.parametrize("body, reason", [
    (b'{"name": "Kaputt GmbH",\n "country": }', "Expecting value at line 2, column 13"),
    (b'{"name": "Kaputt GmbH" "country": "DE"}', "Expecting ',' delimiter at line 1, column 24"),
    (b'{"name": "Kaputt', "Unterminated string starting at line 1, column 10"),
])
def test_a_body_that_is_not_json_says_why_and_where(api, body, reason):
    response = api.client.post("/api/v1/customers", content=body,
                               headers=api.headers("sam", {"content-type": "application/json"}))
    error = error_of(response, 400)
    assert error["code"] == "invalid_json"
    assert error["message"].startswith("the request body is not valid JSON: ") and reason in error["message"]
    assert error["details"] == [{"field": "body", "message": error["message"]}]


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_without_a_valid_token_the_body_is_not_judged(api, token):
    headers = {"content-type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    for body in (b'{"name": "Kaputt', b'{"name": 5}'):
        response = api.client.post("/api/v1/customers", content=body, headers=headers)
        assert error_of(response, 401)["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"


def test_country_and_e_mail_are_explained_in_words(api):
    found = messages(api.post("/customers", {"name": "Land GmbH", "country": "Germany"}, user="sam"))
    assert found == {"country": "must be a two-letter ISO 3166 country code in capitals, such as DE"}
    customer = ok(api.post("/customers", {"name": "Land GmbH"}, user="sam"), 201)
    found = messages(api.post(f"/customers/{customer['id']}/contacts", {"last_name": "Post", "email": "post@",
                                                                       "phone": "call me"}, user="sam"))
    assert found == {"email": "not a valid e-mail address, e.g. name@example.com",
                     "phone": "not a valid phone number: 3 to 40 digits, spaces and + ( ) / - ."}
    found = messages(api.get("/customers", params={"country": "de"}, user="sam"))
    assert found == {"country": "must be a two-letter ISO 3166 country code in capitals, such as DE"}


def test_no_answer_shows_a_regular_expression(api):
    for response in (api.get("/price-lists", params={"currency": "1"}, user="sam"),
                     api.post("/products", {"sku": "?", "name_de": "X", "unit": "day", "tax_rate": "19"}, user="mona"),
                     api.post("/customers", {"name": "W", "currency": "eur"}, user="sam")):
        for message in messages(response).values():
            assert not any(mark in message for mark in ("^", "$", "[", "\\")), message


def test_a_login_sent_as_json_is_told_to_post_a_form(api):
    response = api.client.post("/api/v1/auth/token", json={"username": "sam", "password": "sam-password"})
    error = error_of(response, 415)
    assert error["code"] == "unsupported_media_type"
    assert error["message"] == ("this operation takes a form post: send username and password as "
                                "application/x-www-form-urlencoded (the request came as application/json)")
    assert ok(api.client.post("/api/v1/auth/token", data={"username": "sam", "password": "sam-password"}))
    missing = api.client.post("/api/v1/auth/token", data={"username": "sam"})  # a form, a field missing
    assert error_of(missing, 422)["details"] == [{"field": "password", "message": "Field required"}]
