"""Idempotency-Key for every write: the same key of the same user replays the first answer.

Order of checks, before the request runs:
1. routes that carry credentials (the token route) never take part: their request and answer are
   never stored;
2. the caller is authenticated by the API's own check (api.deps.authenticated: a valid token
   now, an active user now); a request without one is passed on untouched and gets its 401 there,
   nothing is reserved or replayed;
3. the key is reserved (runtime/idempotency.py): a concurrent request with the same key gets 409,
   a later one the stored answer, a key reused for a different request 422. Answers of 5xx are not
   stored, so a retry after a crash runs again. The reservation is a lease of
   KONTOR_IDEMPOTENCY_LEASE_SECONDS, renewed every third of it while the request runs: a slow
   request keeps its key, one whose process died (or lost the database) frees it within the lease;
   records expire after KONTOR_IDEMPOTENCY_TTL_HOURS.
4. the answer is stored before its last byte goes to the client, so a retry sent the moment the
   answer arrived is a replay; if storing it fails (twice: a dropped connection is replaced once),
   the answer is sent all the same and the key is free again when the lease lapses.
A passing database error here (kernel.transient) is a 503 with Retry-After, as anywhere in the API.
The body was bounded by api/body_limit.py before it gets here."""
from __future__ import annotations

import asyncio
import logging
from collections import deque

from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi_answers import send_error, send_unavailable
from api.deps import authenticated, bearer_token
from kernel.transient import is_transient_database_error
from kontor.bootstrap import Kontor
from runtime.idempotency import IdempotencyStore, Lease, Refusal, request_hasher

log = logging.getLogger("kontor.api")

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HEADER = b"idempotency-key"
CREDENTIAL_ROUTES = frozenset({"/api/v1/auth/token", "/api/v1/me/password"})  # their bodies hold passwords
UNAVAILABLE = object()  # what _on_the_database gives when it answered 503



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
        username = await self._on_the_database(send, self._authenticated, headers)
        if username is UNAVAILABLE:
            return
        if username is None:
            return await self.app(scope, receive, send)
        chunks, request_hash = await self._read_body(scope, receive)
        if chunks is None:
            return  # the client went away (or sent too much: api/body_limit.py answered)
        outcome = await self._on_the_database(send, self.store.reserve, f"user:{username}", key, request_hash)
        if outcome is UNAVAILABLE:
            return
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

    @staticmethod
    async def _on_the_database(send: Send, call, *args):
        """call(*args) in a thread; after a passing database error the 503 is sent and UNAVAILABLE given."""
        try:
            return await run_in_threadpool(call, *args)
        except Exception as error:
            if not is_transient_database_error(error):
                raise
            log.error("database unavailable: %s", error)
            await send_unavailable(send)
            return UNAVAILABLE

    def _authenticated(self, headers: dict) -> str | None:
        """The user name if the API would let this request in now; None otherwise."""
        token = bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
        if token is None:
            return None
        try:
            return authenticated(self.kontor, token)[0].username
        except HTTPException:
            return None

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[list[bytes] | None, str]:
        digest = self.new_hash()
        for part in (scope["method"].encode(), b" ", scope["path"].encode(), b"?", scope.get("query_string", b""),
                     b"\0"):
            digest.update(part)
        if_match = dict(scope.get("headers") or []).get(b"if-match")
        if if_match is not None:  # the version a change was made from belongs to the request (api/versioning.py)
            digest.update(b"if-match:" + if_match + b"\0")
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
        keeper = LeaseKeeper(self.store, lease)
        captured: dict = {"status": None, "headers": [], "body": []}
        body_given = stored = False

        async def replay_receive() -> Message:
            """The body read above, chunk by chunk; then the client's own channel (its disconnect)."""
            nonlocal body_given
            if body_given:
                return await receive()
            chunk = pending.popleft() if pending else b""
            body_given = not pending
            return {"type": "http.request", "body": chunk, "more_body": not body_given}

        async def capture_send(message: Message) -> None:
            nonlocal stored
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [(k.decode("latin-1"), v.decode("latin-1"))
                                       for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
                if not message.get("more_body", False) and not stored:
                    stored = True  # before the last chunk goes out: a retry on its heels finds the answer
                    await self._finish(keeper, captured["status"], captured["headers"], b"".join(captured["body"]))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            if not stored:  # no complete answer: the key is free again
                await self._finish(keeper, None, [], b"")

    async def _finish(self, keeper: LeaseKeeper, status: int | None, headers: list, body: bytes) -> None:
        """The answer stored (a 5xx or none: the reservation removed). A connection that dropped is
        replaced once; failing again, the answer still goes out and the key lapses with its lease."""
        lease = await keeper.stop()
        for attempt in (1, 2):
            try:
                return await run_in_threadpool(self.store.finish, lease, status, headers, body)
            except Exception as error:  # noqa: BLE001 - the answer must reach the client all the same
                if attempt == 2 or not is_transient_database_error(error):
                    log.error("the answer for Idempotency-Key %r was not stored; the key is free again after "
                              "the lease", lease.key, exc_info=error)
                    return


class LeaseKeeper:
    """Renews a request's lease every third of its length while the request runs."""

    def __init__(self, store: IdempotencyStore, lease: Lease):
        self.store = store
        self._last = lease
        self._stopped = asyncio.Event()
        self._task = asyncio.ensure_future(self._renew_until_stopped())

    async def stop(self) -> Lease:
        """The lease as last renewed (renewal ends; one under way is waited for)."""
        self._stopped.set()
        await self._task
        return self._last

    async def _renew_until_stopped(self) -> None:
        every = self.store.lease.total_seconds() / 3
        while True:
            try:
                await asyncio.wait_for(self._stopped.wait(), every)
                return
            except TimeoutError:
                pass
            try:
                renewed = await run_in_threadpool(self.store.renew, self._last)
            except Exception as error:  # noqa: BLE001 - try at the next beat; the lease holds until then
                log.warning("the lease of Idempotency-Key %r was not renewed: %s", self._last.key, error)
                continue
            if renewed is None:
                log.warning("the lease of Idempotency-Key %r was taken over", self._last.key)
                return
            self._last = renewed
