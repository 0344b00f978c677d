"""The worker loop's settings (flows/worker.py, flows/deployments.py): how often it looks for work,
where it serves its probes, and the port of the local Prefect server embedded mode starts. What a
worker claims and how it proves it is alive is the runtime's (runtime/settings.py)."""
from __future__ import annotations

from pydantic import Field

from kernel.settings import SettingsSection


class WorkerSettings(SettingsSection):
    # Worker: how often it looks for due timers and ready jobs.
    worker_poll_seconds: float = 1.0
    # Worker probes (GET /health, /ready) over HTTP on this address; no port: not served.
    worker_health_host: str = "127.0.0.1"
    worker_health_port: int | None = Field(default=None, ge=0, le=65535)
    prefect_port: int = 4200
