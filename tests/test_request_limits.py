"""Request bodies are bounded before anything reads them (api/body_limit.py): by Content-Length at
once, and while a chunked body streams in; uploads have their own limit. SQLite and PostgreSQL."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from runtime.idempotency import IdempotencyRecord

MiB = 1024 * 1024
MULTIPART_ALLOWANCE = 64 * 1024  # the README's figures
OFFER_BODY_MAX = 4 * MiB


def assert_too_large(response, limit: int) -> None:
    assert response.status_code == 413, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and str(limit) in error["message"]
    assert error["details"] == [{"field": "body", "message": f"at most {limit} bytes"}]


def chunks(total: int, size: int = 64 * 1024):
    """A body without Content-Length (sent chunked)."""
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b"x" * part


def test_a_declared_body_over_the_limit_is_refused_before_the_login(client, kontor):
    limit = kontor.settings.request_max_bytes
    form = f"username=olga&password=olga-password&pad={'x' * limit}".encode()
    response = client.post("/api/v1/auth/token", content=form,
                           headers={"content-type": "application/x-www-form-urlencoded", "Idempotency-Key": "k"})
    assert_too_large(response, limit)
    assert "access_token" not in response.text
    small = client.post("/api/v1/auth/token", data={"username": "olga", "password": "olga-password"})
    assert small.status_code == 200


def test_a_chunked_body_is_counted_while_it_streams(api, kontor):
    limit = kontor.settings.request_max_bytes
    for path, headers in (("/api/v1/auth/token", {"content-type": "application/x-www-form-urlencoded"}),
                          ("/api/v1/process-instances", api.headers("sam", {"content-type": "application/json",
                                                                            "Idempotency-Key": "big"}))):
        response = api.client.post(path, content=chunks(limit + 1), headers=headers)
        assert "content-length" not in response.request.headers
        assert_too_large(response, limit)
    with api.client.app.state.kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0  # nothing reserved


def test_a_chunked_body_within_the_limit_reaches_the_route(api):
    body = json.dumps({"process": "demo_request", "data": {"amount": 10, "request_id": "chunked"}}).encode()
    response = api.client.post("/api/v1/process-instances", content=iter([body[:20], body[20:]]),
                               headers=api.headers("sam", {"content-type": "application/json"}))
    assert response.status_code == 201, response.text


def test_the_limit_is_a_setting(api, kontor, monkeypatch):
    monkeypatch.setattr(kontor.settings, "request_max_bytes", 4096)
    padded = {"process": "demo_request", "data": {"amount": 10, "request_id": "pad", "note": "n" * 3800}}
    assert api.post("/process-instances", padded, user="sam").status_code == 201
    padded["data"]["note"] = "n" * 4100
    assert_too_large(api.post("/process-instances", padded, user="sam"), 4096)
    assert_too_large(api.client.post("/o/some-token", data={"decision": "accept", "reason": "r" * 5000}), 4096)


def test_uploads_have_the_document_limit(api, kontor, monkeypatch):
    monkeypatch.setattr(kontor.settings, "document_max_bytes", 64 * 1024)
    limit = 64 * 1024 + MULTIPART_ALLOWANCE
    customer = api.post("/customers", {"name": "Upload GmbH"}, user="sam").json()
    form = {"owner_type": "customer", "owner_id": str(customer["id"])}
    files = {"file": ("big.pdf", b"%PDF-1.7\n" + b"0" * (limit + 1), "application/pdf")}
    assert_too_large(api.client.post("/api/v1/documents", data=form, files=files, headers=api.headers("sam")), limit)
    files = {"file": ("k.csv", b"Name\n" + b"x" * (limit + 1), "text/csv")}
    assert_too_large(api.client.post("/api/v1/imports", data={"kind": "customers"}, files=files,
                                     headers=api.headers("sam")), limit)
    # over the general limit but within the upload limit: the route decides (the file is too large for it)
    monkeypatch.setattr(kontor.settings, "request_max_bytes", 4096)
    files = {"file": ("big.pdf", b"%PDF-1.7\n" + b"0" * (64 * 1024 + 10), "application/pdf")}
    response = api.client.post("/api/v1/documents", data=form, files=files, headers=api.headers("sam"))
    assert response.status_code == 422 and "larger than" in response.json()["error"]["details"][0]["message"]


def test_an_offer_with_500_long_lines_fits(api):
    lines = [{"product_id": 1, "quantity": "1", "description": "Beschreibung " * 300} for _ in range(500)]
    body = {"customer_id": 999999, "title": "Großes Angebot", "lines": lines}
    assert 1 * MiB < len(json.dumps(body)) < OFFER_BODY_MAX
    response = api.post("/offers", body, user="sam")
    assert response.status_code in (404, 422), response.text[:300]  # the route answered: no such customer
    assert_too_large(api.post("/offers", {**body, "lines": lines * 3}, user="sam"), OFFER_BODY_MAX)


def test_a_content_length_that_is_no_number_is_refused(client):
    response = client.post("/api/v1/auth/token", content=b"username=a&password=b",
                           headers={"content-type": "application/x-www-form-urlencoded", "content-length": "12abc"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
