"""Test fixtures: every integration test runs on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres).
A database or Prefect that cannot start fails the test with a clear message; nothing is skipped."""
from __future__ import annotations

import functools
import os
import tempfile
import uuid
from pathlib import Path

# Prefect reads these at import: keep its home and temp files out of the user's.
_PREFECT_TMP = Path(tempfile.mkdtemp(prefix="kontor-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_TMP / "home"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")
os.environ.pop("PREFECT_API_URL", None)
# Cheap argon2 for every Kontor the tests start, in this process and in the ones it starts (the
# production defaults cost ~0.1 s of CPU per login; the hashes protect nothing here).
os.environ.setdefault("KONTOR_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("KONTOR_PASSWORD_HASH_MEMORY_KIB", "8")
os.environ.setdefault("KONTOR_PASSWORD_HASH_PARALLELISM", "1")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from tests.support import API, PG_ADMIN_URL, TEST_USERS, create_pg_database, drop_pg_database  # noqa: E402

TEST_BPMN_DIR = Path(__file__).parent / "bpmn"  # test-only processes, deployed like an adopter's extra folder
# Rows kept from one test to the next (every other table is emptied; the list of tables comes from
# the modules' metadata, kontor.schema): what bootstrap deployed, the workers' presence, the test
# users (made once per session; portal users go) and the standard opportunity phases the
# migrations seed (the others go). None keeps every row; a condition names the rows that go.
KEPT_ROWS = {
    "deployment": None, "process_definition": None, "worker": None,
    "app_user": "customer_id IS NOT NULL",
    "opportunity_phase": "key NOT IN ('qualification', 'analysis', 'offer', 'negotiation', 'won', 'lost')",
}


def _worker_id(config) -> str:
    return getattr(config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    return _worker_id(request.config)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory, worker_id):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'kontor.sqlite3'}"
        return
    name = f"kontor_test_{worker_id}_{os.getpid()}"
    try:
        url = create_pg_database(name)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required for the integration tests and did not answer: {exc}",
                    pytrace=False)
    yield url
    drop_pg_database(name)


@pytest.fixture(scope="session")
def kontor_app(database_url, tmp_path_factory):
    """A Kontor on this database: migrated, processes deployed, test users created once."""
    from domain.users import add_user
    from kontor.bootstrap import bootstrap, set_current
    from kontor.settings import Settings

    data_dir = tmp_path_factory.mktemp("data")
    settings = Settings(database_url=database_url, data_dir=data_dir, secret_key="test-secret-" + "x" * 20,
                        bpmn_path=[TEST_BPMN_DIR],
                        job_backoff_base_seconds=0.05, job_backoff_max_seconds=0.2, worker_poll_seconds=0.2)
    kontor = bootstrap(settings)
    with kontor.transaction() as session:
        for name, groups in TEST_USERS.items():
            add_user(session, name, f"{name}-password", groups, email=f"{name}@kontor.test")
    set_current(kontor)
    yield kontor
    set_current(None)
    kontor.dispose()


@functools.cache
def _cleanup_plan():
    """(tables emptied whole, ordered so that a table goes before those it refers to; tables that
    kept rows refer to, emptied row by row after those rows went, in the same order; their
    nullable references among each other, cleared first because they go round in circles)."""
    import kontor.schema

    tables = kontor.schema.metadata.sorted_tables
    referred = set()
    todo = [table for table in tables if table.name in KEPT_ROWS]
    while todo:
        for key in todo.pop().foreign_keys:
            target = key.column.table
            if target.name not in KEPT_ROWS and target.name not in referred:
                referred.add(target.name)
                todo.append(target)
    whole = [t.name for t in reversed(tables) if t.name not in KEPT_ROWS and t.name not in referred]
    by_rows = [t.name for t in reversed(tables) if t.name in referred]
    circles = [f"UPDATE {t.name} SET " + ", ".join(f"{key.parent.name} = NULL" for key in keys)
               for t in tables if t.name in referred
               if (keys := [k for k in t.foreign_keys if k.column.table.name in referred and k.parent.nullable])]
    return whole, by_rows, circles


def empty_database(kontor_app) -> None:
    """No instances, tasks, messages, jobs, mails or business records left from the tests before."""
    from domain.demo_operations import budget_office

    whole, by_rows, circles = _cleanup_plan()
    with kontor_app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(whole)} RESTART IDENTITY"))  # fires no row triggers
        else:  # issued invoices refuse DELETE by trigger: lifted while the tests' data goes, then restored
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _ in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            for table in whole:
                conn.execute(text(f"DELETE FROM {table}"))
            for _, sql in triggers:
                conn.execute(text(sql))
        for table, going in KEPT_ROWS.items():
            if going is not None:
                conn.execute(text(f"DELETE FROM {table} WHERE {going}"))
        for statement in circles:
            conn.execute(text(statement))
        for table in by_rows:
            conn.execute(text(f"DELETE FROM {table}"))
    budget_office.limit = budget_office.__class__().limit
    budget_office.reservations.clear()


@pytest.fixture
def kontor(kontor_app):
    """Per test: no instances, tasks, messages or jobs left from the test before."""
    from kontor.bootstrap import set_current

    empty_database(kontor_app)
    set_current(kontor_app)
    return kontor_app


@pytest.fixture(scope="session")
def api_app(kontor_app):
    """The FastAPI app on this database, built once per test worker (building it costs ~0.1 s);
    a test that changes an app builds its own with api.app.create_app."""
    from api.app import create_app

    return create_app(kontor_app)


@pytest.fixture
def client(kontor, api_app):
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def api(client) -> API:
    return API(client)


@pytest.fixture
def fresh_api(kontor) -> API:
    """The API on an app built for this test alone: for a test of what a new process starts with
    (the shared app's middleware keeps state between tests, e.g. when it last swept expired records)."""
    from api.app import create_app

    with TestClient(create_app(kontor), raise_server_exceptions=False) as test_client:
        yield API(test_client)


@pytest.fixture(scope="session")
def prefect_server():
    """A real Prefect server for this test session (temporary database, started once per worker)."""
    from prefect.testing.utilities import prefect_test_harness

    try:
        with prefect_test_harness(server_startup_timeout=120):
            yield
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the Prefect test server did not start: {exc}", pytrace=False)


@pytest.fixture
def prefect(prefect_server):
    from flows.worker import quiet_flow_settings

    with quiet_flow_settings():
        yield


@pytest.fixture(scope="session")
def mail_servers(tmp_path_factory):
    """Real Dovecot (IMAP, LMTP) and an SMTP server delivering into it, once per test worker."""
    from mailers.local_servers import LocalMail, MailServerError

    try:
        servers = LocalMail.start(tmp_path_factory.mktemp("mailservers"))
    except (MailServerError, OSError) as exc:
        pytest.fail(f"the local mail servers did not start: {exc}", pytrace=False)
    yield servers
    servers.stop()


@pytest.fixture
def mail(kontor, mail_servers, prefect):
    """Kontor sending to the test SMTP server, with short retry delays; the SMTP server runs again
    afterwards even if a test stopped it."""
    saved = kontor.settings.model_dump()
    kontor.settings.smtp_host, kontor.settings.smtp_port = "127.0.0.1", mail_servers.smtp.port
    kontor.settings.smtp_security, kontor.settings.smtp_username, kontor.settings.smtp_password = "none", None, None
    kontor.settings.outbox_backoff_base_seconds = 0.2
    kontor.settings.outbox_backoff_max_seconds = 1.0
    yield mail_servers
    for name in ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password", "smtp_ca_file",
                 "smtp_timeout_seconds",
                 "outbox_max_attempts",
                 "outbox_backoff_base_seconds", "outbox_backoff_max_seconds", "outbox_lease_seconds"):
        setattr(kontor.settings, name, saved[name])
    if not mail_servers.smtp.running:
        mail_servers.smtp.start()


@pytest.fixture
def replies(kontor, mail):
    """Kontor's own reply mailbox on the test Dovecot, read by the flow; a fresh address per test."""
    from pydantic import SecretStr

    from kontor.settings import MailboxConfig

    local = f"antwort{uuid.uuid4().hex[:8]}"
    saved = (kontor.settings.reply_local, kontor.settings.mailboxes, kontor.settings.inbound_max_bytes)
    kontor.settings.reply_local = local
    config = MailboxConfig(name="antwort", port=mail.dovecot.imap_port, username=f"{local}@kontor.localhost",
                           password=SecretStr(mail.dovecot.password))
    kontor.settings.mailboxes = [config]
    yield config
    kontor.settings.reply_local, kontor.settings.mailboxes, kontor.settings.inbound_max_bytes = saved
