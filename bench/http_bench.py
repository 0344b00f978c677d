"""HTTP latency through the real ASGI server (uvicorn on loopback) and a real HTTP client:
start an instance that needs a review, open the task, claim it, complete it."""
from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from bench.common import stopwatch, summary_ms
from domain.users import add_user


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """uvicorn serving create_app(kontor) in a thread; stopped on exit."""

    def __init__(self, kontor):
        from api.app import create_app

        self.port = _free_port()
        config = uvicorn.Config(create_app(kontor), host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start for the HTTP benchmark")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _token(client: httpx.Client, name: str) -> dict:
    reply = client.post("/api/v1/auth/token", data={"username": name, "password": f"{name}-password"})
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def _timed(samples: list[float], call, *args, **kwargs) -> httpx.Response:
    with stopwatch() as took:
        reply = call(*args, **kwargs)
    if reply.status_code >= 300:
        raise RuntimeError(f"{reply.request.method} {reply.request.url} → {reply.status_code}: {reply.text[:300]}")
    samples.append(took())
    return reply


def http_latency(kontor, requests: int) -> dict:
    with kontor.transaction() as session:
        add_user(session, "bench-sales", "bench-sales-password", ["sales"])
        add_user(session, "bench-reviewer", "bench-reviewer-password", ["reviewer"])
    samples: dict[str, list[float]] = {"start": [], "task": [], "claim": [], "complete": [], "inbox": []}
    with Server(kontor) as base, httpx.Client(base_url=base, timeout=30) as client:
        sales, reviewer = _token(client, "bench-sales"), _token(client, "bench-reviewer")
        for n in range(requests + 10):
            warm = n < 10  # the first requests fill caches and the pool: not counted
            bucket = {key: [] for key in samples} if warm else samples
            started = _timed(bucket["start"], client.post, "/api/v1/process-instances", headers=sales,
                             json={"process": "demo_request", "data": {"amount": 5000, "request_id": f"H-{n}"}})
            instance_id = started.json()["id"]
            inbox = _timed(bucket["inbox"], client.get, "/api/v1/tasks", headers=reviewer,
                           params={"process": "demo_request", "instance_id": instance_id})
            items = inbox.json()["items"]
            if len(items) != 1:
                raise RuntimeError(f"instance {instance_id} should have one open review task, has {len(items)}")
            task_id = items[0]["id"]
            _timed(bucket["task"], client.get, f"/api/v1/tasks/{task_id}", headers=reviewer)
            _timed(bucket["claim"], client.post, f"/api/v1/tasks/{task_id}/claim", headers=reviewer)
            _timed(bucket["complete"], client.post, f"/api/v1/tasks/{task_id}/complete", headers=reviewer,
                   json={"data": {"approved": True}})
    return {name: summary_ms(values) for name, values in samples.items()}
