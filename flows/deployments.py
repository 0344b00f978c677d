"""Kontor's Prefect deployments, declared in code and served by `kontor worker`.

The worker's own loop runs these flows in-process as soon as the index says there is work
(low timer lag, no empty runs). Serving them as deployments as well lets ops start a run by
hand from Prefect's UI or API ("Quick run"), and gives housekeeping its schedule."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading

from flows.service_jobs import run_service_jobs
from flows.timers import expire_messages, fire_timers
from kontor.bootstrap import Kontor

log = logging.getLogger("kontor.worker")

DEPLOYMENTS = [
    # (flow, deployment name, schedule interval in seconds or None for on-demand)
    (run_service_jobs, "kontor-service-jobs", None),
    (fire_timers, "kontor-timers", None),
    (expire_messages, "kontor-housekeeping", 600),
]


async def serve(kontor: Kontor, stop: threading.Event) -> None:
    """Serve the deployments with a Prefect Runner and run the worker loop beside it, until stop is set."""
    from prefect.runner import Runner

    from flows.worker import start_worker_thread

    runner = Runner(name=f"kontor-worker-{socket.gethostname()}-{os.getpid()}", pause_on_shutdown=False)
    for flow, name, interval in DEPLOYMENTS:
        await runner.aadd_flow(flow, name=name, interval=interval, description=flow.__doc__,
                               tags=["kontor"])
    thread, loop_stop = start_worker_thread(kontor, housekeeping=False)
    runner_task = asyncio.create_task(runner.start(webserver=False))
    await asyncio.sleep(0.2)
    if threading.current_thread() is threading.main_thread():
        # The Runner installs a SIGTERM handler that exits at once; stop gracefully instead.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("serving deployments %s", ", ".join(name for _, name, _ in DEPLOYMENTS))
    try:
        while not stop.is_set() and not runner_task.done():
            await asyncio.sleep(0.5)
    finally:
        loop_stop.set()
        await runner.astop()
        runner_task.cancel()
        await asyncio.gather(runner_task, return_exceptions=True)
        await asyncio.to_thread(thread.join, 15)
    if runner_task.done() and not runner_task.cancelled() and runner_task.exception() is not None:
        raise runner_task.exception()
