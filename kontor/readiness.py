"""Readiness: can this process do its work? The database answers, its schema is Alembic's head,
Prefect answers (where one is configured), the SMTP server and each configured mailbox's IMAP server
greet. Served unauthenticated by the API (`/ready`) and the worker (`KONTOR_WORKER_HEALTH_PORT`), so
the answer names dependencies and says up or down, nothing more: no hosts, no error texts (those go
to the log). Checks run with short timeouts, at most one at a time, and a result is reused for
`CACHE_SECONDS`, so that callers cannot turn the probe into load on the dependencies."""
from __future__ import annotations

import imaplib
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from kontor.settings import MailboxConfig, Settings

log = logging.getLogger("kontor.readiness")
TIMEOUT_SECONDS = 2.0
CACHE_SECONDS = 2.0


def database_up(engine: Engine) -> bool:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True


_heads: tuple[str, ...] | None = None


def migrations_current(engine: Engine) -> bool:
    """The database's Alembic revision is the newest the code knows."""
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from kernel.db import MIGRATIONS_DIR

    global _heads
    if _heads is None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        _heads = tuple(sorted(ScriptDirectory.from_config(config).get_heads()))
    with engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads())) == _heads


PROBE_TIMEOUT_SECONDS = 2.0


def prefect_api_url() -> str | None:
    """The API URL Prefect's client uses (PREFECT_API_URL or a test harness's setting); None when
    Prefect would run in-process, which cannot be unreachable."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url).rstrip("/") if url else None


def probe_prefect(url: str | None, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None when Prefect answers its health check, else what went wrong (for logs, not for callers)."""
    if url is None:
        return None
    try:
        response = httpx.get(f"{url}/health", timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.status_code < 500 else f"HTTP {response.status_code}"


def prefect_up(url: str) -> bool:
    problem = probe_prefect(url, TIMEOUT_SECONDS)
    if problem:
        log.warning("Prefect is not ready: %s", problem)
    return problem is None


def smtp_up(settings: Settings) -> bool:
    """The SMTP server greets (220); no login, no mail."""
    if settings.smtp_security == "tls":
        context = ssl.create_default_context(cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
    try:
        client.quit()
    except smtplib.SMTPException:
        client.close()
    return True


def imap_up(config: MailboxConfig) -> bool:
    """The mailbox's IMAP server greets; no login."""
    if config.security == "tls":
        client = imaplib.IMAP4_SSL(config.host, config.port, ssl_context=ssl.create_default_context(),
                                   timeout=TIMEOUT_SECONDS)
    else:
        client = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT_SECONDS)
    client.logout()
    return True


def checks_of(kontor, prefect_url: str | None) -> dict[str, Callable[[], bool]]:
    """The dependencies of this process by name, each with its check (Prefect where a server is
    configured: without one Prefect runs inside the process)."""
    checks: dict[str, Callable[[], bool]] = {
        "database": lambda: database_up(kontor.engine),
        "migrations": lambda: migrations_current(kontor.engine),
    }
    if prefect_url:
        checks["prefect"] = lambda: prefect_up(prefect_url)
    checks["smtp"] = lambda: smtp_up(kontor.settings)
    for config in kontor.settings.mailboxes:
        checks[f"imap:{config.name}"] = lambda config=config: imap_up(config)
    return checks


def run_checks(checks: dict[str, Callable[[], bool]]) -> dict[str, str]:
    results = {}
    for name, check in checks.items():
        try:
            up = bool(check())
        except Exception as exc:  # noqa: BLE001 - any failure means down; the reason goes to the log only
            log.warning("%s is not ready: %s: %s", name, type(exc).__name__, exc)
            up = False
        results[name] = "up" if up else "down"
    return results


class Readiness:
    """The checks of one process, run at most once per CACHE_SECONDS and one caller at a time. The
    Prefect server is the one configured where the process was built (PREFECT_API_URL)."""

    def __init__(self, kontor, cache_seconds: float = CACHE_SECONDS):
        self.kontor, self.cache_seconds = kontor, cache_seconds
        self.prefect_url = prefect_api_url()
        self._lock = threading.Lock()
        self._result: dict[str, str] | None = None
        self._at = 0.0

    def __call__(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            if self._result is None or time.monotonic() - self._at >= self.cache_seconds:
                self._result = run_checks(checks_of(self.kontor, self.prefect_url))
                self._at = time.monotonic()
            result = dict(self._result)
        return all(state == "up" for state in result.values()), result
