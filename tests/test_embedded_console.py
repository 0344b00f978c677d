"""The first README command as a newcomer runs it: `kontor serve --embedded` starts its own Prefect
server, local mail and worker, serves the API, runs a process's service job as a flow run, reads its
mailboxes, and stops on SIGTERM; its console shows what an operator needs and none of the libraries'
chatter (HTTP requests of the Prefect client, SpiffWorkflow's state changes, Alembic's banner)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from kontor.serving import default_worker_processes
from tests.prefect_process import free_port
from tests.test_cli import KONTOR, base_env, ok

CHATTER = ("HTTP Request:", "State changed", "alembic", "Created flow run", "Finished in state", "csrf-token")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


def test_embedded_mode_runs_the_work_and_its_console_stays_readable(tmp_path):
    api_port = free_port()
    env = {k: v for k, v in base_env(tmp_path).items() if not k.startswith("PREFECT_")}
    env.update(KONTOR_API_PORT=str(api_port), KONTOR_PREFECT_PORT=str(free_port()),
               KONTOR_SMTP_PORT=str(free_port()), KONTOR_LOCAL_IMAP_PORT=str(free_port()),
               KONTOR_MAIL_POLL_SECONDS="1", KONTOR_WORKER_POLL_SECONDS="0.5")
    ok(env, "user", "add", "sam", "--password", "a long enough password", "--groups", "sales")
    console = tmp_path / "console.log"
    with open(console, "w") as out:
        server = subprocess.Popen([str(KONTOR), "serve", "--embedded"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                  cwd=env["KONTOR_DATA_DIR"], start_new_session=True)
    root = f"http://127.0.0.1:{api_port}"
    base = f"{root}/api/v1"
    try:
        def healthy():
            if server.poll() is not None:
                raise AssertionError(f"kontor serve exited with {server.returncode}:\n{console.read_text()}")
            try:
                return httpx.get(f"{root}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, 180, "the embedded API answering")
        token = httpx.post(f"{base}/auth/token", data={"username": "sam", "password": "a long enough password"},
                           timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        started = httpx.post(f"{base}/process-instances", headers=headers, timeout=30, json={
            "process": "demo_request", "data": {"amount": 250, "request_id": "R-console"}})
        assert started.status_code in (200, 201), started.text

        def job_done():
            instance = httpx.get(f"{base}/process-instances/{started.json()['id']}", headers=headers, timeout=10)
            return "reservation" in instance.json().get("variables", {})

        wait_for(job_done, 90, "the service job running in a flow run")
        time.sleep(2.5)  # two mailbox rounds
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group gets it
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    text = console.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    assert "reading the mailboxes antwort (antwort@" in text and "anfragen (anfragen@" in text, text
    assert "every 1 s" in text
    assert "Uvicorn running on" in text and '"POST /api/v1/process-instances HTTP/1.1" 201' in text
    helpers = default_worker_processes() - 1  # the default: one process per core
    assert (f"started {helpers} more worker process(es)" in text) == (helpers > 0), text
    assert [line for line in lines if any(noise in line for noise in CHATTER)] == [], text
    assert not [line for line in lines if "Traceback" in line or " ERROR " in line], text
    assert not [line for line in lines if "/health" in line], text  # probes are no news
    requests = [line for line in lines if '"GET /api/v1/' in line or '"POST /api/v1/' in line]
    assert len(lines) - len(requests) < 25, text  # started, listening: nothing per flow run or poll
    assert server.returncode == 0, text
    assert Path(env["KONTOR_DATA_DIR"], "prefect-server.log").exists()  # Prefect's own log is a file
