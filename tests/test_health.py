"""Liveness and readiness of the API and the worker: /health touches no dependency, /ready names each
dependency up or down (nothing else), 503 when one is down: a database that does not answer, a
schema behind Alembic's head, a Prefect, SMTP or IMAP server that is gone. SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
import json
import threading
import urllib.error
import urllib.request

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine

from api.app import create_app
from flows.rounds import Rounds
from flows.worker import run_worker
from kernel.db import make_session_factory
from kontor.probe_server import start_probe_server
from kontor.readiness import Readiness
from kontor.settings import MailboxConfig
from tests.prefect_process import free_port

EXPECTED_NAMES = {"database", "migrations", "prefect", "smtp", "imap:antwort"}


@pytest.fixture
def wired(kontor, mail_servers, prefect):
    """SMTP and one mailbox on the real test servers, Prefect the session's test server."""
    settings = kontor.settings
    saved = (settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.mailboxes)
    settings.smtp_host, settings.smtp_port, settings.smtp_security = "127.0.0.1", mail_servers.smtp.port, "none"
    settings.mailboxes = [MailboxConfig(name="antwort", port=mail_servers.dovecot.imap_port,
                                        username="antwort@kontor.localhost",
                                        password=SecretStr(mail_servers.dovecot.password))]
    yield kontor
    settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.mailboxes = saved


def unreachable(kontor):
    """The same Kontor with a database that cannot be reached (a closed port; a file that cannot be)."""
    if kontor.engine.dialect.name == "postgresql":
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/kontor")
    else:
        engine = create_engine("sqlite:////proc/version/kontor.sqlite3")
    return dataclasses.replace(kontor, engine=engine, sessions=make_session_factory(engine))


def reveals_nothing(body: dict) -> None:
    assert set(body) == {"status", "checks"}
    assert set(body["checks"].values()) <= {"up", "down"}
    assert "127.0.0.1" not in json.dumps(body) and "password" not in json.dumps(body)


def test_everything_up_is_ready_without_a_token(wired):
    with TestClient(create_app(wired)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        response = client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {name: "up" for name in EXPECTED_NAMES}}
    assert response.headers["cache-control"] == "no-store"


def test_a_database_that_does_not_answer_is_503_while_health_stays_200(wired):
    with TestClient(create_app(unreachable(wired)), raise_server_exceptions=False) as client:
        assert client.get("/health").status_code == 200  # liveness touches no dependency
        response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    reveals_nothing(body)
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "down" and body["checks"]["migrations"] == "down"
    assert body["checks"]["smtp"] == "up" and body["checks"]["prefect"] == "up"


def test_a_schema_behind_the_newest_migration_is_not_ready(wired, tmp_path):
    from alembic import command
    from alembic.config import Config

    from kernel.db import MIGRATIONS_DIR, make_engine

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0014")
    engine = make_engine(url)
    try:
        _, checks = Readiness(dataclasses.replace(wired, engine=engine))()
        assert checks["database"] == "up" and checks["migrations"] == "down"
        command.upgrade(config, "head")
        _, checks = Readiness(dataclasses.replace(wired, engine=engine))()
        assert checks["migrations"] == "up"
    finally:
        engine.dispose()


def test_mail_servers_that_are_gone_are_named(wired):
    wired.settings.smtp_port = free_port()
    wired.settings.mailboxes = [wired.settings.mailboxes[0].model_copy(update={"port": free_port()})]
    ok, checks = Readiness(wired)()
    assert not ok and checks["smtp"] == "down" and checks["imap:antwort"] == "down"
    assert checks["database"] == "up"


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_worker_probes_answer_while_its_loop_runs(wired):
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(wired, stop, True, Rounds(wired)), daemon=True)
    thread.start()
    server = start_probe_server("127.0.0.1", 0, thread.is_alive, Readiness(wired))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert get(f"{base}/health") == (200, {"status": "ok"})
        assert get(f"{base}/ready") == (200, {"status": "ready", "checks": {name: "up" for name in EXPECTED_NAMES}})
        stop.set()
        thread.join(timeout=10)
        assert get(f"{base}/health") == (503, {"status": "stopped"})
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
