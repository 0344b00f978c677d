"""Request bodies are bounded before anything reads them: an ASGI middleware outside all others
refuses a body whose Content-Length is too large at once (413, nothing read), and counts the bytes
of every body while they stream in (chunked bodies have no Content-Length): past the limit the
client gets the 413 and the application sees a client that went away.

Limits (KONTOR_REQUEST_MAX_BYTES, default 1 MiB, for every route; the exceptions below):
- file uploads (POST /documents, POST /imports, POST /bank-statements): KONTOR_DOCUMENT_MAX_BYTES plus 64 KiB for the
  multipart envelope and form fields;
- offers with their lines (POST /offers, PUT /offers/{id}/lines): at least 4 MiB, what 500 lines
  with descriptions of 4,000 characters (the schema's maxima) take as JSON."""
from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi_answers import send_error
from kontor.serving import ApiSettings

MULTIPART_ALLOWANCE = 64 * 1024
OFFER_BODY_MAX = 4 * 1024 * 1024
UPLOAD_PATHS = frozenset({"/api/v1/documents", "/api/v1/imports", "/api/v1/bank-statements"})
OFFER_ROUTES = (("POST", re.compile(r"/api/v1/offers/?")), ("PUT", re.compile(r"/api/v1/offers/[^/]+/lines/?")))


def body_limit(settings: ApiSettings, method: str, path: str) -> int:
    """The most bytes a request to this route may carry."""
    if method == "POST" and path.rstrip("/") in UPLOAD_PATHS:
        return settings.document_max_bytes + MULTIPART_ALLOWANCE
    if any(method == m and pattern.fullmatch(path) for m, pattern in OFFER_ROUTES):
        return max(settings.request_max_bytes, OFFER_BODY_MAX)
    return settings.request_max_bytes


async def refuse_too_large(send: Send, limit: int) -> None:
    await send_error(send, 413, "payload_too_large", f"the request body is larger than {limit} bytes",
                     [{"field": "body", "message": f"at most {limit} bytes"}], headers=[(b"connection", b"close")])


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: ApiSettings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].removeprefix(scope.get("root_path") or "") or "/"
        limit = body_limit(self.settings, scope["method"], path)
        declared = [value for name, value in scope.get("headers") or () if name.lower() == b"content-length"]
        if declared:
            if len(declared) > 1 or not declared[0].strip().isdigit():
                return await send_error(send, 400, "bad_request", "the Content-Length header is not valid",
                                        headers=[(b"connection", b"close")])
            if int(declared[0]) > limit:
                return await refuse_too_large(send, limit)
        await _LimitedExchange(limit, receive, send).run(self.app, scope)


class _LimitedExchange:
    """One request whose body is counted as it arrives; past the limit the 413 goes out (if no answer
    has started), the application reads a disconnect and whatever it sends after is dropped."""

    def __init__(self, limit: int, receive: Receive, send: Send):
        self.limit, self._receive, self._send = limit, receive, send
        self.received = 0
        self.started = False
        self.refused = False

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        try:
            await app(scope, self.receive, self.send)
        except Exception:
            if not self.refused:  # the application's own failure: not ours to hide
                raise

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.refused = True
                if not self.started:
                    self.started = True
                    await refuse_too_large(self._send, self.limit)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
