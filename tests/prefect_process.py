"""A Prefect server of the test's own, as a real `prefect server start` child process that a test can
kill (SIGKILL, by PID) and start again on the same port and database."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cli.embedded import wait_healthy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrefectServer:
    def __init__(self, home: Path):
        self.home, self.port = home, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, timeout: float = 180) -> None:
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_API_URL": self.api_url}
        log = open(self.home / "server.log", "ab")  # noqa: SIM115 - the child's for its lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_healthy(f"{self.api_url}/health", timeout, self.process)
        except RuntimeError:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL to the server's process group (the server and any child it started), by PID."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None
