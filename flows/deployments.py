"""Kontor's Prefect deployments, declared in code and served by `kontor worker`.

The worker's own loop runs these flows in-process as soon as the index says there is work
(low timer lag, no empty runs), and housekeeping every ten minutes. Serving them as deployments as
well lets ops start a run by hand from Prefect's UI or API ("Quick run"). The deployments need
Prefect; the worker loop does not: when Prefect cannot be reached (at start or later), the loop goes
on without flow runs (flows.rounds) and the deployments are served again once Prefect answers."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time

from flows.dunning import run_dunning
from flows.invoice_runs import run_invoicing
from flows.service_jobs import run_service_jobs
from flows.timers import expire_messages, fire_timers
from flows.worker_processes import WorkerProcesses
from kontor.bootstrap import Kontor

log = logging.getLogger("kontor.worker")

DEPLOYMENTS = [
    # (flow, deployment name, schedule interval in seconds or None for on-demand)
    (run_service_jobs, "kontor-service-jobs", None),
    (fire_timers, "kontor-timers", None),
    (expire_messages, "kontor-housekeeping", None),
    (run_invoicing, "kontor-invoice-run", None),
    (run_dunning, "kontor-dunning-run", None),
]
RUNNER_RETRY_MAX_SECONDS = 60.0


async def _start_runner():
    from prefect.runner import Runner

    runner = Runner(name=f"kontor-worker-{socket.gethostname()}-{os.getpid()}", pause_on_shutdown=False)
    for flow, name, interval in DEPLOYMENTS:
        await runner.aadd_flow(flow, name=name, interval=interval, description=flow.__doc__, tags=["kontor"])
    task = asyncio.create_task(runner.start(webserver=False))
    await asyncio.sleep(0.2)
    return runner, task


async def _stop_runner(runner, task) -> None:
    try:
        await runner.astop()
    except Exception:  # noqa: BLE001 - Prefect may be gone; the task is cancelled anyway
        log.debug("runner stop failed", exc_info=True)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def serve(kontor: Kontor, stop: threading.Event, helpers: WorkerProcesses | None = None) -> None:
    """Run the worker loop (and its helper processes) and serve the deployments beside it (again and
    again, with back-off, while Prefect cannot be reached), until stop is set."""
    from flows.worker import start_worker_thread

    thread, loop_stop = start_worker_thread(kontor)
    if helpers is not None:
        helpers.start()
    probes = None
    if kontor.settings.worker_health_port is not None:
        from kontor.probe_server import start_probe_server
        from kontor.readiness import Readiness

        probes = start_probe_server(kontor.settings.worker_health_host, kontor.settings.worker_health_port,
                                    thread.is_alive, Readiness(kontor))
    runner = task = None
    backoff, next_try = 1.0, 0.0
    try:
        while not stop.is_set():
            if task is not None and task.done():
                error = None if task.cancelled() else task.exception()
                log.warning("the deployments' runner stopped (%s); serving them again later", error)
                runner = task = None
                next_try = time.monotonic() + backoff
            if task is None and time.monotonic() >= next_try:
                try:
                    runner, task = await _start_runner()
                    backoff = 1.0
                    log.info("serving deployments %s", ", ".join(name for _, name, _ in DEPLOYMENTS))
                except Exception as exc:  # noqa: BLE001 - Prefect unreachable: the loop works on without it
                    log.warning("deployments not served (%s: %s); trying again in %.0f s",
                                type(exc).__name__, exc, backoff)
                    next_try = time.monotonic() + backoff
                    backoff = min(backoff * 2, RUNNER_RETRY_MAX_SECONDS)
                if threading.current_thread() is threading.main_thread():
                    # The Runner installs a SIGTERM handler that exits at once; stop gracefully instead.
                    signal.signal(signal.SIGTERM, lambda *_: stop.set())
            await asyncio.sleep(0.5)
    finally:
        loop_stop.set()
        if helpers is not None:
            await asyncio.to_thread(helpers.stop)
        if task is not None:
            await _stop_runner(runner, task)
        await asyncio.to_thread(thread.join, 15)
        if probes is not None:
            probes.shutdown()
