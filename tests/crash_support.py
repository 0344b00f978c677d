"""What the crash tests need: `kontor worker` as a real subprocess on the test's database (killed
with SIGKILL, or stopped), an SMTP server that withholds its answer to one message so that a kill
lands while that mail is in flight, and the invariants read back by SQL."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import text

from mailers.local_servers import _DeliverToLmtp, free_port

KONTOR = Path(sys.executable).with_name("kontor")
TEST_BPMN_DIR = Path(__file__).parent / "bpmn"


class WorkerProcess:
    """`kontor worker` on the test's database and Prefect server, in a data folder of its own."""

    def __init__(self, kontor, data_dir: Path, worker_id: str, **settings):
        from prefect.settings import PREFECT_API_URL

        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        url = kontor.settings.resolved_database_url
        if url.startswith("postgresql"):  # (so that the tests can find its connections)
            url += ("&" if "?" in url else "?") + "application_name=kontor-crash-worker"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KONTOR_", "PREFECT_"))}
        env.update({
            "KONTOR_DATABASE_URL": url, "KONTOR_DATA_DIR": str(data_dir), "KONTOR_WORKER_ID": worker_id,
            "KONTOR_SECRET_KEY": kontor.settings.signing_key(),
            "KONTOR_BPMN_PATH": str(TEST_BPMN_DIR), "KONTOR_WORKER_POLL_SECONDS": "0.2",
            "KONTOR_WORKER_PROCESSES": "1",  # the process killed is the one that claims (unless a test says more)
            "KONTOR_JOB_BACKOFF_BASE_SECONDS": "0.05", "KONTOR_JOB_BACKOFF_MAX_SECONDS": "0.2",
            "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(data_dir / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "TMPDIR": str(data_dir),
        })
        env.update({f"KONTOR_{name.upper()}": str(value) for name, value in settings.items()})
        self.env = env
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> WorkerProcess:
        self.log = open(self.data_dir / "worker.log", "ab")  # noqa: SIM115 - closed by stop/kill
        self.started = time.monotonic()
        self.process = subprocess.Popen([str(KONTOR), "worker"], env=self.env, cwd=self.data_dir,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return (self.data_dir / "worker.log").read_text(errors="replace")[-4000:]


def wait_until(condition, timeout: float, what: str, worker: WorkerProcess | None = None, every: float = 0.02):
    """Poll until `condition()` is true (its value), or fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if worker is not None and not worker.alive():
            raise AssertionError(f"the worker ended while waiting for {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            detail = f"\n{worker.output()}" if worker is not None else ""
            raise AssertionError(f"not within {timeout:.0f} s: {what}{detail}")
        time.sleep(every)


def scalar(kontor, sql: str, **params):
    with kontor.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def rows(kontor, sql: str, **params) -> list:
    with kontor.engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def repeated_audit(kontor, kinds: tuple[str, ...]) -> list:
    """(instance, kind, count) of every audit kind recorded more than once for an instance."""
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    return rows(kontor, f"SELECT instance_id, kind, count(*) FROM audit_event WHERE kind IN ({listed}) "
                        "GROUP BY instance_id, kind HAVING count(*) > 1")


class _Withholding(_DeliverToLmtp):
    """Delivers every message into Dovecot; the answer to message number `hold_at` is withheld until
    `release` is set (the message is in the mailbox, its sender has not heard so)."""

    def __init__(self, lmtp_port: int, hold_at: int):
        super().__init__(lmtp_port)
        self.hold_at, self.holding, self.release = hold_at, threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        answer = await super().handle_DATA(server, session, envelope)
        if self.received == self.hold_at:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 600)
        return answer


class WithholdingRelay:
    """A real SMTP server on loopback (aiosmtpd) delivering into the test Dovecot over LMTP."""

    def __init__(self, lmtp_port: int, hold_at: int):
        self.port = free_port()
        self.handler = _Withholding(lmtp_port, hold_at)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10)

    def __enter__(self) -> WithholdingRelay:
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.handler.release.set()
        self.controller.stop()


class ConnectionDropper:
    """Ends every backend of one application on the test database (pg_terminate_backend), again
    and again, from a thread of its own: what a database restart or a proxy does to a worker. It
    drops them each time `progress()` has gone `step` further (so drops land amid the work, however
    fast it goes), and at the latest every `every` seconds."""

    def __init__(self, database: str, application: str, progress, step: int, every: float):
        self.database, self.application, self.every = database, application, every
        self.progress, self.step = progress, step
        self.dropped = self.drops = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ConnectionDropper:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop(self) -> int:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        return self.dropped

    def _run(self) -> None:
        import psycopg

        from tests.support import PG_ADMIN_URL

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            last, since = self.progress(), time.monotonic()
            while not self._stop.wait(0.05):
                now = self.progress()
                if now < last + self.step and time.monotonic() - since < self.every:
                    continue
                last, since = now, time.monotonic()
                self.drops += 1
                ended = admin.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE datname = %s AND application_name = %s",
                                      (self.database, self.application)).fetchone()[0]
                self.dropped += ended
