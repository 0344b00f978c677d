"""Idempotency-Key for every write: the same key (per user) replays the first answer.

The key is reserved before the request runs (a unique row); a concurrent request with the
same key gets 409, a later one gets the stored answer. A key reused for a different request
is refused (422). Answers of 5xx are not stored, so a retry after a crash runs again."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

import jwt
from sqlalchemy import String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kontor.db import Base, transaction, utcnow

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HEADER = b"idempotency-key"


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("principal", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    headers: Mapped[dict | None]
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _json_response(status: int, payload: dict, extra_headers: list | None = None) -> tuple[dict, dict]:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return ({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])},
            {"type": "http.response.body", "body": body})


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, sessions, signing_key: str):
        self.app = app
        self.sessions = sessions
        self.signing_key = signing_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        key = headers.get(HEADER, b"").decode("latin-1").strip()
        if not key:
            return await self.app(scope, receive, send)
        if len(key) > 200:
            for part in _json_response(422, {"error": {"code": "validation_failed", "message": "Idempotency-Key is too long",
                                                       "details": [{"field": "Idempotency-Key", "message": "at most 200 characters"}]}}):
                await send(part)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        principal = self._principal(headers)
        request_hash = hashlib.sha256(scope["method"].encode() + b" " + scope["path"].encode() + b"?"
                                      + scope.get("query_string", b"") + b"\0" + body).hexdigest()
        outcome = await run_in_threadpool(self._reserve, principal, key, request_hash)
        if outcome is not None:
            for part in outcome:
                await send(part)
            return

        captured: dict = {"status": None, "headers": [], "body": b""}

        async def replay_receive() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            await run_in_threadpool(self._finish, principal, key, captured)

    def _principal(self, headers: dict) -> str:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            try:
                claims = jwt.decode(auth[7:].strip(), self.signing_key, algorithms=["HS256"])
                return f"user:{claims.get('sub')}"
            except jwt.PyJWTError:
                pass
        return "anonymous:" + hashlib.sha256(auth.encode()).hexdigest()[:32]

    def _reserve(self, principal: str, key: str, request_hash: str):
        with transaction(self.sessions) as session:
            record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.principal == principal,
                                                                    IdempotencyRecord.key == key))
            if record is None:
                try:
                    with session.begin_nested():
                        session.add(IdempotencyRecord(principal=principal, key=key, request_hash=request_hash))
                        session.flush()
                    return None
                except IntegrityError:
                    record = session.scalar(select(IdempotencyRecord).where(
                        IdempotencyRecord.principal == principal, IdempotencyRecord.key == key))
            if record.request_hash != request_hash:
                return _json_response(422, {"error": {
                    "code": "idempotency_key_reused", "message": "this Idempotency-Key was used for another request",
                    "details": [{"field": "Idempotency-Key", "message": "use a new key for a new request"}]}})
            if record.status_code is None:
                return _json_response(409, {"error": {"code": "conflict", "message":
                                                      "a request with this Idempotency-Key is still running",
                                                      "details": []}})
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (record.headers or {}).items()]
            headers.append((b"idempotent-replayed", b"true"))
            body = (record.body or "").encode("latin-1")
            return ({"type": "http.response.start", "status": record.status_code, "headers": headers},
                    {"type": "http.response.body", "body": body})

    def _finish(self, principal: str, key: str, captured: dict) -> None:
        with transaction(self.sessions) as session:
            record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.principal == principal,
                                                                    IdempotencyRecord.key == key))
            if record is None:
                return
            status = captured["status"]
            if status is None or status >= 500:
                session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
                return
            record.status_code = status
            record.headers = {k: v for k, v in captured["headers"] if k.lower() in ("content-type", "location")}
            record.body = captured["body"].decode("latin-1")
