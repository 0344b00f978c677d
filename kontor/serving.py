"""How Kontor's processes are served: the API (where `kontor serve` listens, how long a login token
lives, which reverse proxies are believed, the largest request bodies) and the worker loop (how
often it looks for work, how many processes claim work, where it serves its probes, the port of the
local Prefect server embedded mode starts). The wiring declares them because the API and the flows
sit above it; what a worker claims and how it proves it is alive is the runtime's
(runtime/settings.py)."""
from __future__ import annotations

import ipaddress
import os
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from kernel.settings import SettingsSection, separated


class ApiSettings(SettingsSection):
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    token_ttl_minutes: int = 12 * 60
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
    # Without them the client address is the connection's, whatever the request claims.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="addresses or networks of trusted reverse proxies, comma-separated")

    # Documents attached to records: stored under data_dir/documents, at most this large (also the
    # body limit of the upload routes, see api/body_limit.py).
    document_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Request bodies: the most bytes any other request may carry (413 beyond).
    request_max_bytes: int = Field(default=1024 * 1024, ge=1024)

    _split_proxy_list = separated(",", "trusted_proxies")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]):
        return [str(ipaddress.ip_network(p, strict=False)) for p in value]  # ValueError names the bad one


class WorkerSettings(SettingsSection):
    # Worker: how often it looks for due timers and ready jobs.
    worker_poll_seconds: float = 1.0
    # Worker probes (GET /health, /ready) over HTTP on this address; no port: not served.
    worker_health_host: str = "127.0.0.1"
    worker_health_port: int | None = Field(default=None, ge=0, le=65535)
    prefect_port: int = 4200
    # Worker processes that claim work, the main loop included (flows/worker_processes.py).
    worker_processes: int = Field(default_factory=lambda: default_worker_processes(), ge=1, le=16,
                                  description="processes that claim work; default one per core, at most 4")


def default_worker_processes() -> int:
    """One worker process per core this process may use, at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 4))
