"""The `kontor` command line as a subprocess: migrate, deploy, the user commands (quietly) and the
refusals, on a SQLite file in a temporary data folder and on a fresh PostgreSQL database."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from domain.users import User, authenticate
from tests.support import create_pg_database, drop_pg_database

pytestmark = pytest.mark.xdist_group("cli")

KONTOR = Path(sys.executable).with_name("kontor")
PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="Defs_cli" targetNamespace="http://kontor.example/bpmn">
  <bpmn:process id="cli_process" name="CLI test process" isExecutable="true">
    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="{target}"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F1</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(KONTOR), *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=env["KONTOR_DATA_DIR"])


def ok(env: dict, *args: str) -> str:
    result = run(env, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def base_env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
    env.update(KONTOR_DATA_DIR=str(tmp_path / "data"), **extra)
    (tmp_path / "data").mkdir(exist_ok=True)
    return env


def extra_folder(tmp_path: Path, target: str = "Finish") -> Path:
    folder = tmp_path / "processes"
    folder.mkdir(exist_ok=True)
    (folder / "cli_process.bpmn").write_text(PROCESS.format(target=target))
    return folder


def folders_setting(*folders: Path) -> str:
    return ":".join(str(folder) for folder in folders)  # the documented PATH-like form


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_env(request, tmp_path, worker_id):
    if request.param == "sqlite":
        yield base_env(tmp_path)
        return
    name = f"kontor_cli_{worker_id}_{os.getpid()}"
    url = create_pg_database(name)
    try:
        yield base_env(tmp_path, KONTOR_DATABASE_URL=url)
    finally:
        drop_pg_database(name)


def database_url(env: dict) -> str:
    return env.get("KONTOR_DATABASE_URL") or f"sqlite:///{Path(env['KONTOR_DATA_DIR']) / 'kontor.sqlite3'}"


def query(env: dict, sql: str) -> list[tuple]:
    engine = create_engine(database_url(env))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_migrate_deploy_and_add_users(cli_env, tmp_path):
    out = ok(cli_env, "migrate")
    assert out.startswith("database at newest schema:")
    assert "kontor.sqlite3" in out if "KONTOR_DATABASE_URL" not in cli_env else "kontor_cli_" in out
    assert query(cli_env, "SELECT count(*) FROM alembic_version") == [(1,)]
    assert query(cli_env, "SELECT count(*) FROM process_definition") == [(0,)]

    env = {**cli_env, "KONTOR_BPMN_PATH": folders_setting(extra_folder(tmp_path))}
    deployed = ok(env, "deploy").splitlines()
    assert sorted(deployed) == ["cli_process version 1", "demo_request version 1", "dunning version 1",
                                "offer_approval version 1", "order_to_invoice version 1",
                                "payment_clarification version 1"]
    assert sorted(ok(env, "deploy").splitlines()) == sorted(deployed)  # unchanged files: same versions
    (tmp_path / "processes" / "cli_process.bpmn").write_text(
        PROCESS.format(target="Finish").replace("CLI test process", "CLI test process, renamed"))
    assert sorted(ok(env, "deploy").splitlines()) == ["cli_process version 2", "demo_request version 1",
                                                      "dunning version 1", "offer_approval version 1",
                                                      "order_to_invoice version 1", "payment_clarification version 1"]
    assert query(cli_env, "SELECT version, is_latest FROM process_definition WHERE process_key = 'cli_process' "
                          "ORDER BY version") == [(1, False), (2, True)]

    added = ok(cli_env, "user", "add", "carla", "--password", "carla-secret-1", "--groups", "sales,Sales Manager",
               "--full-name", "Carla C", "--email", "carla@example.com")
    assert added.strip() == "user carla added with groups sales,Sales Manager"
    engine = create_engine(database_url(cli_env))
    try:
        with Session(engine) as session:
            user = session.scalar(select(User).where(User.username == "carla"))
            assert (user.groups, user.full_name, user.email) == (["sales", "sales_manager"], "Carla C",
                                                                  "carla@example.com")
            assert authenticate(session, "carla", "carla-secret-1") is not None
            assert authenticate(session, "carla", "wrong-password") is None
    finally:
        engine.dispose()

    again = run(cli_env, "user", "add", "carla", "--password", "another-secret-2")
    assert again.returncode != 0
    assert "kontor: user 'carla' exists already" in again.stderr
    assert "Traceback" not in again.stderr
    assert query(cli_env, "SELECT count(*) FROM app_user WHERE username = 'carla'") == [(1,)]


def test_a_too_short_password_is_refused(tmp_path):
    env = base_env(tmp_path)
    result = run(env, "user", "add", "shorty", "--password", "1234567")
    assert result.returncode != 0
    assert "kontor: invalid user" in result.stderr and "at least 8 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(env, "SELECT count(*) FROM app_user") == [(0,)]
    assert ok(env, "user", "add", "longer", "--password", "12345678").startswith("user longer added")


@pytest.mark.parametrize("secret", ["changeme", "CHANGEME", "short-secret"])
def test_a_default_or_short_secret_key_is_refused(tmp_path, secret):
    env = base_env(tmp_path, KONTOR_SECRET_KEY=secret)
    result = run(env, "migrate")
    assert result.returncode == 2
    assert "kontor: invalid settings: KONTOR_SECRET_KEY:" in result.stderr
    assert "a default or too short (at least 16 characters)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "data" / "kontor.sqlite3").exists()  # refused before touching the database


def test_a_malformed_number_setting_is_named_without_a_traceback(tmp_path):
    result = run(base_env(tmp_path, KONTOR_API_PORT="eighty"), "migrate")
    assert result.returncode == 2
    assert "kontor: invalid settings: KONTOR_API_PORT:" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_strong_secret_key_is_accepted(tmp_path):
    env = base_env(tmp_path, KONTOR_SECRET_KEY="a-long-enough-secret-key")
    assert "database at newest schema" in ok(env, "migrate")


@pytest.mark.parametrize("target, element, reason", [
    ("Nowhere", "sequenceFlow F1 (line 6)", "targetRef 'Nowhere' is no element of this file"),
    ("End", "endEvent End", "reserved by the engine"),
])
def test_a_broken_bpmn_file_stops_deploy_naming_file_element_and_reason(tmp_path, target, element, reason):
    folder = extra_folder(tmp_path, target)
    if target == "End":
        bpmn = folder / "cli_process.bpmn"
        bpmn.write_text(bpmn.read_text().replace('"Finish"', '"End"'))
    env = base_env(tmp_path, KONTOR_BPMN_PATH=folders_setting(folder))
    result = run(env, "deploy")
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("kontor: cannot deploy")]
    assert line.startswith("kontor: cannot deploy cli_process.bpmn: ")
    assert element in line and reason in line
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert query(env, "SELECT count(*) FROM process_definition") == [(0,)]


def test_malformed_xml_stops_deploy_with_the_line(tmp_path):
    folder = extra_folder(tmp_path)
    (folder / "cli_process.bpmn").write_text(PROCESS.format(target="Finish").replace("</bpmn:process>", ""))
    result = run(base_env(tmp_path, KONTOR_BPMN_PATH=folders_setting(folder)), "deploy")
    assert result.returncode == 2
    assert "kontor: cannot deploy cli_process.bpmn: line 9: XML does not parse:" in result.stderr


def test_a_missing_extra_folder_stops_deploy(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = run(base_env(tmp_path, KONTOR_BPMN_PATH=folders_setting(missing)), "deploy")
    assert result.returncode == 2
    assert f"kontor: cannot deploy {missing}: (folder): process folder does not exist" in result.stderr


def test_a_long_running_process_leaves_what_it_started_with_out_of_the_collectors_walks():
    """What `kontor serve` and `kontor worker` do once they have started (in a process of its own here)."""
    code = ("import gc; from kontor.bootstrap import settle_long_running_process, YOUNG_COLLECTION_AFTER as young; "
            "before = gc.get_freeze_count(); settle_long_running_process(); "
            "print(before, gc.get_freeze_count() > 1000, gc.get_threshold()[0] == young)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True", "True"]


class LateDatabase:
    """A loopback port that refuses connections until it is opened, then passes them on to the
    real PostgreSQL: a database that is still starting when Kontor starts."""

    def __init__(self):
        import socket
        import threading

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # nothing listens here until open(): connections are refused
        self.opened = threading.Event()
        self.stopping = False
        self.listener = None

    def open(self) -> None:
        self.opened.set()

    def __enter__(self):
        import threading

        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *_):
        self.stopping = True
        self.opened.set()
        if self.listener is not None:
            self.listener.close()

    def _serve(self) -> None:
        import socket
        import threading

        self.opened.wait()
        if self.stopping:
            return
        self.listener = socket.create_server(("127.0.0.1", self.port))
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", 5432))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, target) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(2)
                except OSError:
                    pass


def test_start_up_waits_for_a_database_that_comes_up_late(tmp_path, worker_id):
    """`kontor deploy` (like `serve` and `worker`) tries a refused database connection again."""
    name = f"kontor_cli_late_{worker_id}_{os.getpid()}"
    url = create_pg_database(name)
    try:
        with LateDatabase() as late:
            env = base_env(tmp_path, KONTOR_DATABASE_URL=url.replace("127.0.0.1:5432", f"127.0.0.1:{late.port}"))
            assert f":{late.port}/" in env["KONTOR_DATABASE_URL"]
            # the database opens once Kontor has said that it waits for it, however long starting took
            process = subprocess.Popen([str(KONTOR), "deploy"], env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, cwd=env["KONTOR_DATA_DIR"])
            said = []
            for line in process.stderr:
                said.append(line)
                if "the database is not reachable (OperationalError); trying again" in line:
                    late.open()
                    break
            stdout, rest = process.communicate(timeout=120)
        stderr = "".join(said) + rest
        assert late.opened.is_set(), stderr[-3000:]
        assert process.returncode == 0, stderr[-3000:]
        assert "cli_process" not in stdout and "version" in stdout
    finally:
        drop_pg_database(name)


def customer_in(env: dict, number: str) -> int:
    """A customer with this number, stored straight into the CLI's database."""
    import kontor.schema  # noqa: F401  (every table the customer refers to)
    from domain.customers.models import Customer

    engine = create_engine(database_url(env))
    try:
        with Session(engine) as session:
            customer = Customer(number=number, name=f"Kunde {number}")
            session.add(customer)
            session.commit()
            return customer.id
    finally:
        engine.dispose()


def quiet(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """A one-shot command prints its result and nothing of Alembic's or anyone's INFO logging."""
    said = result.stdout + result.stderr
    assert not [line for line in said.splitlines() if "INFO" in line or "alembic" in line.lower()
                or "Context impl" in line or "Warning" in line], said
    return result


def test_users_are_administered_on_the_command_line_quietly(cli_env):
    first = quiet(run(cli_env, "user", "add", "ann", "--password", "ann-password-1", "--groups", "admin"))
    assert first.stdout == "user ann added with groups admin\n"  # the migration of a new database says nothing
    customer = customer_in(cli_env, "V-000012")

    refused = quiet(run(cli_env, "user", "add", "paula", "--groups", "portal"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "customer: a portal user belongs to one customer: name it (its number, e.g. V-000012" in refused.stderr
    refused = quiet(run(cli_env, "user", "add", "stan", "--groups", "sales", "--customer", "V-000012"))
    assert refused.returncode == 1 and "only portal users belong to a customer" in refused.stderr
    added = quiet(run(cli_env, "user", "add", "paula", "--groups", "portal", "--customer", "V-000012",
                      "--full-name", "Paula P", "--email", "paula@kunde.example"))
    assert added.returncode == 0, added.stderr
    [said, password] = added.stdout.splitlines()
    assert said == "user paula added with groups portal for customer V-000012"
    one_time = password.removeprefix("one-time password (to be changed at the first login): ")
    assert len(one_time) >= 12
    assert quiet(run(cli_env, "user", "add", "pia", "--groups", "portal", "--customer", str(customer),
                     "--password", "pia-password-1")).returncode == 0
    assert query(cli_env, "SELECT username, customer_id, must_change_password FROM app_user WHERE customer_id "
                          "IS NOT NULL ORDER BY username") == [("paula", customer, True), ("pia", customer, False)]

    assert quiet(run(cli_env, "user", "set-groups", "ann", "admin,ops")).stdout == \
        "user ann now has the groups admin,ops\n"
    assert "the last active administrator stays one" in quiet(run(cli_env, "user", "deactivate", "ann")).stderr
    assert quiet(run(cli_env, "user", "deactivate", "pia")).returncode == 0
    listed = quiet(run(cli_env, "user", "list")).stdout.splitlines()
    assert [line.split()[0] for line in listed[1:-1]] == ["ann", "paula"] and listed[-1] == "2 users"
    assert "V-000012" in listed[2] and "Paula P, paula@kunde.example" in listed[2]
    listed = quiet(run(cli_env, "user", "list", "--inactive", "--group", "portal")).stdout.splitlines()
    assert [line.split()[:4] for line in listed[1:-1]] == [["paula", "portal", "V-000012", "active"],
                                                           ["pia", "portal", "V-000012", "inactive"]]
    assert quiet(run(cli_env, "user", "reactivate", "pia")).stdout == "user pia active again\n"
    reset = quiet(run(cli_env, "user", "reset-password", "pia")).stdout
    assert reset.startswith("one-time password of pia (to be changed at the next login): ")
    assert "there is no user 'nobody'" in quiet(run(cli_env, "user", "reset-password", "nobody")).stderr

    engine = create_engine(database_url(cli_env))
    try:
        with Session(engine) as session:
            assert authenticate(session, "pia", reset.split(": ")[-1].strip()) is not None
            assert authenticate(session, "paula", one_time) is not None
    finally:
        engine.dispose()
    assert query(cli_env, "SELECT kind, username, actor FROM security_event ORDER BY id") == [
        ("user_created", "ann", "cli"), ("user_created", "paula", "cli"), ("user_created", "pia", "cli"),
        ("groups_changed", "ann", "cli"), ("user_deactivated", "pia", "cli"), ("user_reactivated", "pia", "cli"),
        ("password_reset", "pia", "cli")]
