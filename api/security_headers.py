"""Security headers on every answer, whatever made it (routers, error handlers, 404s, the middlewares'
own refusals, the customer's answer page, downloads): an ASGI middleware outside all others.

- every answer: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
  `X-Frame-Options: DENY`, and a Content-Security-Policy with `frame-ancestors 'none'`;
- JSON and other data: `default-src 'none'; frame-ancestors 'none'` (nothing in it may load or run);
- HTML pages: no script, no plugin, no outside resource; forms post only to Kontor itself. A page
  that needs more (the answer page's inline style, by nonce) sends its own policy, which is kept;
- the API documentation (/docs) sends its own policy (api/docs_pages.py);
- over TLS (scope scheme "https", which uvicorn sets from X-Forwarded-Proto for the proxies it
  trusts, see FORWARDED_ALLOW_IPS): `Strict-Transport-Security`.
A header the answer already carries is left as it is."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DATA_POLICY = b"default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = b"default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
HSTS = b"max-age=31536000"
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
          (b"x-frame-options", b"DENY"))


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(scope, list(message.get("headers") or []))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, scope: Scope, headers: list) -> list:
        present = {name.lower() for name, _ in headers}
        wanted = list(ALWAYS)
        wanted.append((b"content-security-policy", _policy(headers)))
        if scope.get("scheme") == "https":
            wanted.append((b"strict-transport-security", HSTS))
        headers.extend((name, value) for name, value in wanted if name not in present)
        return headers


def _policy(headers: list) -> bytes:
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    return PAGE_POLICY if content_type.lower().startswith(b"text/html") else DATA_POLICY
