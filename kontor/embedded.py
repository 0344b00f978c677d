"""Embedded mode for a newcomer's machine: a local Prefect server as a child process, stopped with Kontor."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kontor.settings import Settings


def prefect_env(settings: Settings) -> dict[str, str]:
    home = settings.data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    return {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_URL": f"http://127.0.0.1:{settings.prefect_port}/api",
            "PREFECT_UI_API_URL": f"http://127.0.0.1:{settings.prefect_port}/api"}


def wait_healthy(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


def start_prefect_server(settings: Settings, log_path: Path | None = None) -> subprocess.Popen:
    """Start `prefect server start` on 127.0.0.1 and point this process at it."""
    env = prefect_env(settings)
    os.environ.update(env)
    log_path = log_path or settings.data_dir / "prefect-server.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(settings.prefect_port)],
        env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{settings.prefect_port}/api/health", 90, process)
    except RuntimeError:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
