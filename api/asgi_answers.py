"""Answers that ASGI middlewares send themselves, before FastAPI sees the request: the error shape
of api/errors.py, as raw ASGI messages."""
from __future__ import annotations

import json

from starlette.types import Send

from api.errors import RETRY_AFTER_SECONDS, UNAVAILABLE, error_body


async def send_json(send: Send, status: int, payload: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, status: int, code: str, message: str, details: list | None = None,
                     headers: list[tuple[bytes, bytes]] = ()) -> None:
    await send_json(send, status, error_body(code, message, details), headers)


async def send_unavailable(send: Send) -> None:
    """503 with Retry-After, as api.errors.unavailable answers a passing database error."""
    await send_error(send, 503, "unavailable", UNAVAILABLE,
                     headers=[(b"retry-after", str(RETRY_AFTER_SECONDS).encode())])
