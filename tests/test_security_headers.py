"""Security headers on every kind of answer (api/security_headers.py): JSON, errors, 404s, 413s,
500s, the customer's answer page (in a real browser too), downloads, the API docs; HSTS over TLS."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.test_documents import PDF, upload

DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


def assert_always(response) -> str:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", (response.request.url, headers)
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert len(headers.get_list("content-security-policy")) == 1
    assert "strict-transport-security" not in headers  # plain HTTP
    return policy


def test_json_answers_and_errors_carry_the_headers(api, kontor):
    answers = [
        api.get("/process-definitions"),                                      # 200 JSON
        api.client.get("/api/v1/tasks"),                                      # 401
        api.get("/incidents", user="sam"),                                    # 403
        api.get("/tasks/999999"),                                             # 404 of a route
        api.client.get("/no/such/page"),                                      # 404 of no route
        api.post("/process-instances", {"process": 12}),                      # 422
        api.client.post("/api/v1/auth/token", content=b"x" * (kontor.settings.request_max_bytes + 1)),  # 413
        api.client.get("/healthz"),
        api.client.get("/openapi.json"),
    ]
    assert [r.status_code for r in answers] == [200, 401, 403, 404, 404, 422, 413, 200, 200]
    for response in answers:
        assert assert_always(response) == DATA_POLICY, response.request.url


def test_an_unexpected_error_carries_the_headers(kontor):
    from api.app import create_app

    def boom():
        raise RuntimeError("a bug")

    app = create_app(kontor)  # its own app: the shared one keeps the documented routes only
    app.add_api_route("/test-only/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/boom")
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
    assert assert_always(response) == DATA_POLICY


def test_downloads_carry_the_headers(api):
    customer = api.post("/customers", {"name": "Kopf GmbH"}, user="sam").json()
    document = upload(api, "customer", customer["id"], "a.pdf", PDF).json()
    response = api.get(f"/documents/{document['id']}/content", user="sam")
    assert response.status_code == 200 and response.content == PDF
    assert assert_always(response) == DATA_POLICY


def page_nonce(response) -> str:
    policy = assert_always(response)
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    [nonce] = re.findall(r"<style nonce=\"([^\"]+)\">", response.text)
    assert directives == {"default-src": "'none'", "style-src": f"'nonce-{nonce}'", "form-action": "'self'",
                          "base-uri": "'none'", "frame-ancestors": "'none'"}
    assert "<script" not in response.text and "unsafe" not in policy
    return nonce


def test_the_answer_page_has_a_strict_policy_with_a_fresh_nonce(client):
    first, second = client.get("/o/not-a-valid-token"), client.get("/o/not-a-valid-token")
    assert first.status_code == second.status_code == 404
    assert first.headers["content-type"].startswith("text/html")
    assert page_nonce(first) != page_nonce(second)
    answered = client.post("/o/not-a-valid-token", data={"decision": "accept"})
    assert answered.status_code == 404 and page_nonce(answered)


def test_the_api_docs_load_nothing_from_outside_and_admit_only_their_own_scripts(client):
    for path in ("/docs", "/docs/oauth2-redirect"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = assert_always(response)
        assert "default-src 'none'" in policy and "connect-src 'self'" in policy, policy
        assert "unsafe-eval" not in policy and "http" not in policy, policy
        sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert all(s.startswith("/docs-assets/") for s in sources), (path, sources)
        inline = re.findall(r"<script>(.*?)</script>", response.text, re.S)
        script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
        assert script_src.count("'sha256-") == len(inline), (path, script_src)
    assert len(re.findall(r'(?:src|href)="([^"]+)"', client.get("/docs").text)) == 3  # script, style, icon
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/docs-assets/{asset}").status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # ReDoc would fetch its logo from its vendor


def test_the_api_docs_render_in_a_browser_without_outside_requests(kontor):
    """Chromium shows Swagger UI with every request going to Kontor and no policy violation."""
    from bench.http_bench import Server
    from tests.test_offer_page_browser import chromium

    with Server(kontor) as base, chromium() as browser:
        page = browser.new_page()
        requested, violations = [], []
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-tag", timeout=30_000)
        assert "Kontor" in page.locator(".title").first.inner_text()
    assert requested and all(url.startswith((base, "data:")) for url in requested), \
        [url for url in requested if not url.startswith(base)]
    assert violations == []


def test_hsts_over_tls_only(client):
    with TestClient(client.app, base_url="https://kontor.example") as tls:
        for response in (tls.get("/healthz"), tls.get("/o/x"), tls.get("/api/v1/tasks")):
            assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in client.get("/healthz").headers


def test_the_answer_page_keeps_its_style_in_a_browser(kontor):
    """Chromium applies the page's own style under its policy and reports no violation."""
    from bench.http_bench import Server
    from tests.test_offer_page_browser import chromium

    with Server(kontor) as base, chromium() as browser:
        page = browser.new_page()
        violations = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(f"{base}/o/not-a-valid-token")
        assert page.locator("#problem").count() == 1
        assert page.eval_on_selector("body", "b => getComputedStyle(b).maxWidth") == "640px"
        assert page.eval_on_selector("#problem", "p => getComputedStyle(p).color") == "rgb(170, 0, 0)"
    assert violations == []
