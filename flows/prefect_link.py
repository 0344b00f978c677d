"""What the worker knows about the Prefect server: reachable or not, and when to look again.

"Unreachable" is decided honestly and cheaply: a flow call that failed counts only when its error is
a transport error of the HTTP client (refused, reset, timed out) or a 5xx answer, *and* a direct look
at Prefect's `/health` (one GET, 2 s at most) fails too. Any other exception is the work's own
failure and stays a failed flow run. While Prefect is down the worker does not call flows at all; it
looks at `/health` again after 1 s, then 2, 4, … up to `max_backoff` seconds."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx

from kontor.readiness import prefect_api_url, probe_prefect

log = logging.getLogger("kontor.worker")


def looks_like_connection_failure(exc: BaseException) -> bool:
    """A transport error or 5xx answer of an HTTP client anywhere in the exception's chain."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (httpx.TransportError, ConnectionError, TimeoutError)):
            return True
        if isinstance(current, httpx.HTTPStatusError) and current.response.status_code >= 500:
            return True
        todo += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]
    return False


class PrefectLink:
    def __init__(self, probe: Callable[[], str | None] | None = None, first_backoff: float = 1.0,
                 max_backoff: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._probe = probe or (lambda: probe_prefect(prefect_api_url()))
        self.first_backoff, self.max_backoff, self._clock = first_backoff, max_backoff, clock
        self._lock = threading.Lock()
        self.down_reason: str | None = None  # None: believed reachable
        self.probes = 0  # health checks made (tests read it)
        self._backoff = first_backoff
        self._next_probe = 0.0
        self.came_back = False  # set when a probe finds Prefect again; the worker reports the gap then

    @property
    def up(self) -> bool:
        return self.down_reason is None

    def usable(self) -> bool:
        """Whether to call flows now. While down, this probes only once the back-off has passed."""
        with self._lock:
            if self.down_reason is None:
                return True
            if self._clock() < self._next_probe:
                return False
            problem = self._look()
            if problem is None:
                log.warning("Prefect answers again after being unreachable (%s)", self.down_reason)
                self.down_reason, self._backoff, self.came_back = None, self.first_backoff, True
                return True
            self._schedule(problem)
            return False

    def lost(self, exc: BaseException) -> bool:
        """After a flow call raised: True when Prefect is unreachable (the worker then runs the work
        itself), False when the error is the work's own (or Prefect still answers)."""
        if not looks_like_connection_failure(exc):
            return False
        problem = self._look()
        if problem is None:
            return False
        with self._lock:
            if self.down_reason is None:
                log.warning("Prefect is unreachable (%s): background work goes on without flow runs", problem)
                self._backoff = self.first_backoff
            self._schedule(problem)
        return True

    def _look(self) -> str | None:
        self.probes += 1
        return self._probe()

    def mark_down(self, problem: str) -> None:
        with self._lock:
            self._schedule(problem)

    def _schedule(self, problem: str) -> None:
        self.down_reason = problem
        self._next_probe = self._clock() + self._backoff
        self._backoff = min(self._backoff * 2, self.max_backoff)
