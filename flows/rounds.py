"""Each round of background work runs as a Prefect flow run while Prefect answers, and as a plain
call of the same work function while it does not: business work never waits for the run log.
A round that ran without a flow run is a row in `offline_run` (runtime.offline_runs); when Prefect
answers again, a "report-offline-runs" flow run reports the gap (flows.catch_up)."""
from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable

from flows.prefect_link import PrefectLink
from kernel.clock import utcnow
from runtime.offline_runs import PREFECT_UNREACHABLE, REPORT_LIMIT, has_unreported, record_offline_run

log = logging.getLogger("kontor.worker")


class Rounds:
    def __init__(self, kontor, link: PrefectLink | None = None):
        self.kontor = kontor
        self.link = link or PrefectLink()
        self.worker = f"{socket.gethostname()}-{os.getpid()}"
        self._look_for_gap = True  # at start: rows a worker left before (it died while Prefect was down)

    def run(self, kind: str, flow: Callable[[], object], work: Callable[[object, logging.Logger], object]):
        """`flow()` is the flow run; `work(kontor, log)` the same work without one."""
        if self.link.usable():
            self._report_gap()
            try:
                return flow()
            except Exception as exc:
                if not self.link.lost(exc):
                    raise
        return self._offline(kind, work)

    def _offline(self, kind: str, work):
        started = utcnow()
        try:
            result = work(self.kontor, logging.getLogger(f"kontor.offline.{kind}"))
        except Exception as exc:
            with self.kontor.transaction() as session:
                record_offline_run(session, kind, self.worker, started, None,
                                   error="".join(traceback.format_exception_only(exc)).strip()[:2000])
            raise
        with self.kontor.transaction() as session:
            record_offline_run(session, kind, self.worker, started, result)
        log.info("%s ran without a flow run (%s): %s", kind, PREFECT_UNREACHABLE, result)
        return result

    def _report_gap(self) -> None:
        """After Prefect came back (or once at start): report what ran without flow runs."""
        if not (self.link.came_back or self._look_for_gap):
            return
        from flows.catch_up import report_offline_runs

        try:
            with self.kontor.transaction() as session:
                if not has_unreported(session):
                    self.link.came_back = self._look_for_gap = False
                    return
            summary = report_offline_runs()
            log.info("reported rounds without a flow run: %s", summary)
            if summary["runs"] < REPORT_LIMIT:  # else the next round reports the rest
                self.link.came_back = self._look_for_gap = False
        except Exception as exc:  # noqa: BLE001 - the report is tried again; the round must still run
            if not self.link.lost(exc):  # not an outage: no retry every round, ops still see the rows
                log.exception("the catch-up report failed")
                self.link.came_back = self._look_for_gap = False
