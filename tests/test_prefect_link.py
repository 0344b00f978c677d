"""How the worker decides that Prefect is unreachable, and how seldom it looks again: unit tests with
a clock the test moves and real health checks: a closed port, the session's Prefect server."""
from __future__ import annotations

import httpx

from flows.prefect_link import PrefectLink, looks_like_connection_failure
from kontor.readiness import probe_prefect
from tests.prefect_process import free_port


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def closed_port_probe():
    url = f"http://127.0.0.1:{free_port()}/api"
    return lambda: probe_prefect(url)


def refused() -> httpx.ConnectError:
    try:
        httpx.get(f"http://127.0.0.1:{free_port()}/api/health", timeout=2)
    except httpx.ConnectError as exc:
        return exc
    raise AssertionError("a closed port answered")


def test_only_transport_errors_and_5xx_look_like_a_lost_connection():
    assert looks_like_connection_failure(refused())
    try:
        try:
            raise refused()
        except httpx.ConnectError as inner:
            raise RuntimeError("the flow run could not be created") from inner
    except RuntimeError as wrapped:
        assert looks_like_connection_failure(wrapped)
    request = httpx.Request("GET", "http://prefect/api/flow_runs")
    assert looks_like_connection_failure(httpx.HTTPStatusError("", request=request,
                                                               response=httpx.Response(503, request=request)))
    assert not looks_like_connection_failure(httpx.HTTPStatusError("", request=request,
                                                                   response=httpx.Response(422, request=request)))
    assert not looks_like_connection_failure(ValueError("no budget"))
    assert not looks_like_connection_failure(KeyError("offer_id"))


def test_while_down_prefect_is_looked_at_after_1_2_4_s_up_to_the_cap():
    clock = Clock()
    link = PrefectLink(probe=closed_port_probe(), first_backoff=1.0, max_backoff=4.0, clock=clock)
    assert link.usable() and link.probes == 0  # believed up: no look at all
    assert link.lost(refused()) and not link.up and link.probes == 1
    looked_at = []
    for _ in range(24):  # 12 s in steps of 0.5 s, asking at every step as a busy worker would
        clock.now += 0.5
        before = link.probes
        assert not link.usable()
        if link.probes > before:
            looked_at.append(round(clock.now - 1000.0, 1))
    assert looked_at == [1.0, 3.0, 7.0, 11.0]


def test_a_lost_connection_while_prefect_answers_is_not_an_outage(prefect):
    from kontor.readiness import prefect_api_url

    url = prefect_api_url()
    assert url and probe_prefect(url) is None
    link = PrefectLink(probe=lambda: probe_prefect(url))
    assert not link.lost(refused()) and link.up and link.probes == 1
    assert not link.lost(ValueError("no budget")) and link.probes == 1  # not even looked at


def test_prefect_found_again_is_usable_and_asks_for_the_report():
    clock = Clock()
    answers = iter(["ConnectError", None])
    link = PrefectLink(probe=lambda: next(answers), clock=clock)
    link.mark_down("ConnectError")
    clock.now += 1.0
    assert not link.usable()  # still down at the first look
    clock.now += 2.0
    assert link.usable() and link.up and link.came_back
