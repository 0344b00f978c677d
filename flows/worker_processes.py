"""More worker processes beside the worker loop of `kontor worker` (and of `kontor serve --embedded`),
so that the work of one machine uses its cores: rendering a PDF, validating an e-invoice and stepping
a workflow are Python work that one process does on one core at a time.

`KONTOR_WORKER_PROCESSES` (default: one per core, at most 4) counts the processes that claim work,
the main loop included; with 1 the main loop works alone. The others are helpers: child processes
started with the same settings (passed to them, not through the environment), each a worker of its
own under the next free name (`name~2` …, runtime/workers.py). A helper runs the rounds that claim
work (due timers, service jobs, outbox mail, bank statements); reading the mailboxes, housekeeping,
the daily runs and serving the deployments stay with the main loop, so they run once.

Helpers end with their parent: it stops them (SIGTERM, then a wait) when it stops, and a helper
whose parent died (even by SIGKILL) sees it at once and stops after its round. A helper that dies
is started again by the parent's watch, at most once per RESTART_SECONDS."""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from kontor.settings import Settings

log = logging.getLogger("kontor.worker")
RESTART_SECONDS = 5.0
STOP_SECONDS = 20.0


def _prefect_api_url() -> str | None:
    """The Prefect server this process reports to (set in its environment or by a settings context)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _helper_main(settings: Settings, number: int, prefect_api_url: str | None,
                 setup_logging: Callable[[str], None] | None) -> None:
    """A helper process: its console as its parent's, bootstrap (no migration: the parent did it),
    then the claiming rounds until told to stop or the parent is gone. Its flow runs go to its
    parent's Prefect server."""
    if prefect_api_url:
        os.environ["PREFECT_API_URL"] = prefect_api_url  # before Prefect is imported here
    if setup_logging is not None:
        setup_logging(settings.log_level)
    from flows.worker import run_worker
    from kontor.bootstrap import bootstrap, settle_long_running_process

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_stop_with_parent, args=(parent, stop), name="kontor-parent-watch",
                         daemon=True).start()
    kontor = bootstrap(settings, run_migrations=False)
    settle_long_running_process()
    log.info("worker process %d started (pid %d)", number, os.getpid())
    try:
        run_worker(kontor, stop, housekeeping=False, helper=True)
    finally:
        kontor.dispose()


def _stop_with_parent(parent: BaseProcess, stop: threading.Event) -> None:
    parent.join()  # returns when the parent process is gone, however it ended
    if not stop.is_set():
        log.warning("worker process %d: its parent is gone; stopping", os.getpid())
        stop.set()


class WorkerProcesses:
    """The helper processes of one worker loop: started, watched (a dead one started again) and stopped.
    `setup_logging(level)` sets a helper's console up as the command's own (a module-level function:
    it is passed to the new interpreter by name)."""

    def __init__(self, settings: Settings, count: int | None = None,
                 setup_logging: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.setup_logging = setup_logging
        self.count = max(0, (count if count is not None else settings.worker_processes) - 1)
        self._prefect_api_url = _prefect_api_url() if self.count else None
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads or pools
        self._processes: dict[int, BaseProcess] = {}
        self._started_at: dict[int, float] = {}
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def start(self) -> WorkerProcesses:
        for number in range(2, self.count + 2):
            self._start(number)
        if self.count:
            self._watch = threading.Thread(target=self._watch_loop, name="kontor-worker-processes", daemon=True)
            self._watch.start()
            log.info("started %d more worker process(es): %s", self.count,
                     ", ".join(str(process.pid) for process in self._processes.values()))
        return self

    def _start(self, number: int) -> None:
        process = self._context.Process(
            target=_helper_main, args=(self.settings, number, self._prefect_api_url, self.setup_logging),
            name=f"kontor-worker-{number}", daemon=False)
        process.start()
        self._processes[number] = process
        self._started_at[number] = time.monotonic()

    def _watch_loop(self) -> None:
        while not self._stopping.wait(1.0):
            for number, process in list(self._processes.items()):
                if process.is_alive() or self._stopping.is_set():
                    continue
                if time.monotonic() - self._started_at[number] < RESTART_SECONDS:
                    continue
                log.warning("worker process %d (pid %s) ended with code %s; starting it again",
                            number, process.pid, process.exitcode)
                self._start(number)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes.values() if process.pid is not None]

    def alive(self) -> int:
        return sum(process.is_alive() for process in self._processes.values())

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """SIGTERM to each helper (it finishes its round and releases its name), then wait; one that
        does not end within `timeout` is killed (its claims are free once its heartbeat is stale)."""
        self._stopping.set()
        if self._watch is not None:
            self._watch.join(timeout=5)
        for process in self._processes.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in self._processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker process %s did not stop within %.0f s; killing it", process.pid, timeout)
                process.kill()
                process.join(5)
        self._processes.clear()
