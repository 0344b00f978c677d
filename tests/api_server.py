"""The API as a real process: `kontor serve` (uvicorn) on 127.0.0.1 on a database of its own, with a
user to call it as; started, killed (SIGKILL) and started again by the tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

KONTOR = Path(sys.executable).with_name("kontor")
USER, PASSWORD = "crash-sam", "crash-sam-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class APIProcess:
    def __init__(self, database_url: str, data_dir: Path, **settings):
        self.env = {**os.environ, "KONTOR_DATABASE_URL": database_url, "KONTOR_DATA_DIR": str(data_dir),
                    "KONTOR_SECRET_KEY": "crash-test-secret-" + "x" * 24,
                    **{f"KONTOR_{name.upper()}": str(value) for name, value in settings.items()}}
        self.log = data_dir / "api.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self._token: str | None = None

    def add_user(self) -> None:
        done = subprocess.run([str(KONTOR), "user", "add", USER, "--password", PASSWORD, "--groups", "sales"],
                              env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(KONTOR), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the API exited: {self.log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the API did not answer within 120 s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self) -> str:
        if self._token is None:
            status, body, _ = self.call("POST", "/api/v1/auth/token", form={"username": USER, "password": PASSWORD})
            assert status == 200, body
            self._token = body["access_token"]
        return self._token

    def start_instance(self, key: str, request_id: str, timeout: float = 30) -> tuple[int, dict, dict]:
        """POST /process-instances of the demonstration process with this Idempotency-Key."""
        payload = {"process": "demo_request", "data": {"amount": 10, "request_id": request_id}}
        return self.call("POST", "/api/v1/process-instances", payload, timeout=timeout,
                         headers={"Authorization": f"Bearer {self.token()}", "Idempotency-Key": key})

    def call(self, method: str, path: str, payload: dict | None = None, form: dict | None = None,
             headers: dict | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
        """(status, JSON body, headers with lower-case names) of one request on a new connection."""
        data, all_headers = None, dict(headers or {})
        if payload is not None:
            data, all_headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
        if form is not None:
            data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read()), {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()), {k.lower(): v for k, v in error.headers.items()}
