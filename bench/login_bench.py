"""Logins under load, through uvicorn on loopback: how long other requests take while `--logins`
clients log in without pause (each its own account, so nothing is throttled), and what the login
throttle costs per attempt (its read, and the write of a failure) without the password hash."""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import httpx

from bench.common import stopwatch, summary_ms
from bench.http_bench import Server, _token
from domain.users import add_user


def _other_requests(client: httpx.Client, headers: dict, seconds: float, refused: Counter | None = None) -> list[float]:
    """Latencies of an authenticated GET, one after the other; answers other than 200 are counted."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with stopwatch() as took:
            reply = client.get("/api/v1/process-definitions", headers=headers)
        if reply.status_code != 200 and refused is None:
            reply.raise_for_status()
        if reply.status_code != 200:
            refused[reply.status_code] += 1
        samples.append(took())
    return samples


def login_load(kontor, logins: int, seconds: float) -> dict:
    names = [f"bench-login-{n}" for n in range(logins)]
    with kontor.transaction() as session:
        for name in [*names, "bench-reader"]:
            add_user(session, name, f"{name}-password", ["sales"])
    with Server(kontor) as base, httpx.Client(base_url=base, timeout=60) as client:
        reader = _token(client, "bench-reader")
        _other_requests(client, reader, 1.0)  # warm up
        quiet = _other_requests(client, reader, seconds)
        stop, answers, login_times, other_refused = threading.Event(), Counter(), [], Counter()

        def log_in_again_and_again(name: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as own:
                while not stop.is_set():
                    with stopwatch() as took:
                        reply = own.post("/api/v1/auth/token", data={"username": name, "password": f"{name}-password"})
                    answers[reply.status_code] += 1
                    login_times.append(took())

        threads = [threading.Thread(target=log_in_again_and_again, args=(name,), daemon=True) for name in names]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every login client is busy
        started = time.monotonic()
        loaded = _other_requests(client, reader, seconds, other_refused)
        elapsed = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return {"parallel_logins": logins, "other_request_quiet": summary_ms(quiet),
            "other_request_while_logging_in": summary_ms(loaded), "other_request_refused": dict(other_refused),
            "login": summary_ms(login_times),
            "login_answers": dict(answers), "logins_per_s": round(sum(answers.values()) / (elapsed + 1.0), 1)}


def throttle_cost(kontor, attempts: int) -> dict:
    """The throttle's own statements, each in its own transaction as a login runs them."""
    from domain.login_throttle import ThrottleRules, keys_for, read_state, record_failure
    from kernel.clock import utcnow

    rules = ThrottleRules.of(kontor.settings)
    reads, failures = [], []
    for n in range(attempts + 50):
        keys = keys_for(f"user-{uuid.uuid4().hex[:6]}", f"198.51.{n % 250}.{n % 200}")
        with stopwatch() as took:
            with kontor.transaction() as session:
                read_state(session, keys, rules, utcnow())
        with stopwatch() as wrote:
            with kontor.transaction() as session:
                record_failure(session, keys, rules, utcnow())
        if n >= 50:  # the first ones fill the pool and the statement caches
            reads.append(took())
            failures.append(wrote())
    return {"read_per_attempt": summary_ms(reads), "failure_write": summary_ms(failures)}
