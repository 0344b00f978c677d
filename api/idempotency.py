"""Idempotency-Key for every write: the same key of the same user replays the first answer.

Order of checks, before the request runs:
1. routes that carry credentials (the token route) never take part: their request and answer are
   never stored;
2. the caller is authenticated by the API's own check (api.deps.current_principal: a valid token
   now, an active user now); a request without one is passed on untouched and gets its 401 there,
   nothing is reserved or replayed;
3. the key is reserved (api/idempotency_store.py): a concurrent request with the same key gets 409,
   a later one the stored answer, a key reused for a different request 422. Answers of 5xx are not
   stored, so a retry after a crash runs again; a reservation whose request died lapses after
   KONTOR_IDEMPOTENCY_LEASE_SECONDS; records expire after KONTOR_IDEMPOTENCY_TTL_HOURS.
The body was bounded by api/body_limit.py before it gets here."""
from __future__ import annotations

from collections import deque

from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi_answers import send_error
from api.deps import current_principal
from api.idempotency_store import IdempotencyStore, Lease, Refusal, request_hasher
from kontor.bootstrap import Kontor

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HEADER = b"idempotency-key"
CREDENTIAL_ROUTES = frozenset({"/api/v1/auth/token"})



def _reaches_an_operation(scope: Scope) -> bool:
    """A method the path has: only such a request keeps a key (another one is a 404 or 405, key or not)."""
    app = scope.get("app")
    return app is None or any(route.matches(scope)[0] == Match.FULL for route in iter_route_contexts(app.routes))


def declare_idempotency_key(document: dict) -> None:
    """Every write in the OpenAPI `document` but the credential routes takes the optional Idempotency-Key."""
    parameter = {"name": "Idempotency-Key", "in": "header", "required": False,
                 "description": "the same key (per user) replays the first answer; 409 while that request runs, "
                                "422 for a key used with another request",
                 "schema": {"type": "string", "maxLength": 200}}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method.upper() in WRITE_METHODS and path not in CREDENTIAL_ROUTES:
                operation.setdefault("parameters", []).append(parameter)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, kontor: Kontor):
        self.app = app
        self.kontor = kontor
        self.store = IdempotencyStore(kontor.sessions, kontor.settings)
        self.new_hash = request_hasher(kontor.settings.signing_key())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in WRITE_METHODS
                or scope["path"].rstrip("/") in CREDENTIAL_ROUTES or not _reaches_an_operation(scope)):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        key = headers.get(HEADER, b"").decode("latin-1").strip()
        if not key:
            return await self.app(scope, receive, send)
        if len(key) > 200:
            return await send_error(send, 422, "validation_failed", "Idempotency-Key is too long",
                                    [{"field": "Idempotency-Key", "message": "at most 200 characters"}])
        username = await run_in_threadpool(self._authenticated, headers)
        if username is None:
            return await self.app(scope, receive, send)
        chunks, request_hash = await self._read_body(scope, receive)
        if chunks is None:
            return  # the client went away (or sent too much: api/body_limit.py answered)
        outcome = await run_in_threadpool(self.store.reserve, f"user:{username}", key, request_hash)
        if isinstance(outcome, Lease):
            return await self._run(scope, deque(chunks), receive, send, outcome)
        if isinstance(outcome, Refusal):
            details = [{"field": "Idempotency-Key", "message": outcome.hint}] if outcome.hint else []
            return await send_error(send, outcome.status, outcome.code, outcome.message, details)
        replayed = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers.items()]
        await send({"type": "http.response.start", "status": outcome.status,
                    "headers": replayed + [(b"content-length", str(len(outcome.body)).encode()),
                                           (b"idempotent-replayed", b"true")]})
        await send({"type": "http.response.body", "body": outcome.body})

    def _authenticated(self, headers: dict) -> str | None:
        """The user name if the API would let this request in now; None otherwise."""
        scheme, token = get_authorization_scheme_param(headers.get(b"authorization", b"").decode("latin-1"))
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return current_principal(self.kontor, token).username
        except HTTPException:
            return None

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[list[bytes] | None, str]:
        digest = self.new_hash()
        for part in (scope["method"].encode(), b" ", scope["path"].encode(), b"?", scope.get("query_string", b""),
                     b"\0"):
            digest.update(part)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None, ""
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
                digest.update(chunk)
            if not message.get("more_body", False):
                return chunks, digest.hexdigest()

    async def _run(self, scope: Scope, pending: deque[bytes], receive: Receive, send: Send, lease: Lease) -> None:
        captured: dict = {"status": None, "headers": [], "body": []}
        body_given = False

        async def replay_receive() -> Message:
            """The body read above, chunk by chunk; then the client's own channel (its disconnect)."""
            nonlocal body_given
            if body_given:
                return await receive()
            chunk = pending.popleft() if pending else b""
            body_given = not pending
            return {"type": "http.request", "body": chunk, "more_body": not body_given}

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [(k.decode("latin-1"), v.decode("latin-1"))
                                       for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            await run_in_threadpool(self.store.finish, lease, captured["status"], captured["headers"],
                                    b"".join(captured["body"]))
