"""Prefect down: a real Prefect server of the test's own is killed (SIGKILL, by PID) while service jobs,
timers, outbox mail and a received mail are due. The worker goes on without flow runs, each business
effect happens once, the rounds are recorded as run without a flow run (and shown to ops), /ready
says Prefect is down; once the server is back, one "report-offline-runs" flow run reports the gap
and /ready says up. SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from flows.prefect_link import PrefectLink
from flows.rounds import Rounds
from flows.worker import run_worker
from kontor.readiness import CACHE_SECONDS, TIMEOUT_SECONDS
from kontor.settings import MailboxConfig
from mailers.inbound_models import InboundMail
from mailers.outbox import OutboxMail
from runtime.offline_runs import OfflineRun
from tests.mailbox import inbox, send_smtp
from tests.prefect_process import PrefectServer
from tests.support import API
from tests.test_flows import count_audit, start_demo
from tests.test_outbox import address, queue

pytestmark = pytest.mark.xdist_group("prefect_outage")


@pytest.fixture(scope="module")
def own_prefect(tmp_path_factory):
    server = PrefectServer(tmp_path_factory.mktemp("own-prefect"))
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"the test's own Prefect server did not start: {exc}", pytrace=False)
    yield server
    server.kill()


def wait_until(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def offline_runs(kontor) -> list[OfflineRun]:
    with kontor.transaction() as session:
        return list(session.scalars(select(OfflineRun).order_by(OfflineRun.id)))


def ready_checks(client) -> tuple[int, dict]:
    response = client.get("/ready")
    return response.status_code, response.json()["checks"]


async def _report_runs(since: datetime):
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["report-offline-runs"])),
                                           flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(
                                               after_=since)), sort=FlowRunSort.START_TIME_DESC, limit=10)
        logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(
            any_=[run.id for run in runs])), limit=200, offset=0) if runs else []
    return runs, [entry.message for entry in logs]


@pytest.fixture
def worker_mail(kontor, mail_servers):
    """SMTP to the test server and one mailbox read every second; settings restored afterwards."""
    settings = kontor.settings
    saved = {name: getattr(settings, name) for name in ("smtp_host", "smtp_port", "smtp_security", "smtp_username",
                                                        "smtp_password", "mailboxes", "mail_poll_seconds")}
    settings.smtp_host, settings.smtp_port, settings.smtp_security = "127.0.0.1", mail_servers.smtp.port, "none"
    settings.smtp_username = settings.smtp_password = None
    mailbox = f"anfragen{uuid.uuid4().hex[:8]}@kontor.localhost"
    settings.mailboxes = [MailboxConfig(name="anfragen", port=mail_servers.dovecot.imap_port, username=mailbox,
                                        password=SecretStr(mail_servers.dovecot.password), purpose="leads")]
    settings.mail_poll_seconds = 1.0
    yield mailbox
    for name, value in saved.items():
        setattr(settings, name, value)


def test_prefect_down_the_worker_goes_on_and_reports_the_gap_when_back(kontor, own_prefect, mail_servers,
                                                                         worker_mail):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from api.app import create_app

    with temporary_settings({PREFECT_API_URL: own_prefect.api_url}):
        context = contextvars.copy_context()  # the worker thread talks to this server
        link = PrefectLink(max_backoff=2.0)
        stop = threading.Event()
        worker = threading.Thread(target=context.run, args=(run_worker, kontor, stop, True, Rounds(kontor, link)))
        with TestClient(create_app(kontor), raise_server_exceptions=False) as client:
            api = API(client)
            worker.start()
            try:
                # Prefect up: work runs as flow runs, nothing is recorded as run without one.
                first = start_demo(kontor, amount=100)
                wait_until("the first job", lambda: count_audit(kontor, "job_completed", first) == 1)
                assert offline_runs(kontor) == [] and link.up
                assert ready_checks(client)[1]["prefect"] == "up"

                own_prefect.kill()
                killed = time.monotonic()
                job = start_demo(kontor, amount=100)
                timer = start_demo(kontor, amount=5000, reminder_after="PT0.5S")
                to = address()
                mail_id = queue(kontor, to)
                received = EmailMessage()
                received["From"], received["To"] = "neu@example.test", worker_mail
                received["Subject"], received["Message-ID"] = "Anfrage", f"<{uuid.uuid4().hex}@example.test>"
                received.set_content("Bitte ein Angebot.")
                send_smtp(mail_servers, received)

                def all_done() -> bool:
                    kinds = {run.kind for run in offline_runs(kontor)}
                    with kontor.transaction() as session:
                        sent = session.get(OutboxMail, mail_id).state == "sent"
                        taken_in = session.scalar(select(func.count()).select_from(InboundMail).where(
                            InboundMail.message_id == received["Message-ID"]))
                    return (count_audit(kontor, "job_completed", job) == 1 and sent and taken_in == 1
                            and count_audit(kontor, "timer_fired", timer) == 1
                            and {"service-jobs", "timers", "outbox", "mailboxes"} <= kinds)

                wait_until("jobs, timers, mail and the mailbox without Prefect", all_done)
                down_for = time.monotonic() - killed
                assert not link.up
                # Back-off (1 s, then 2 s): Prefect's health was looked at once when a flow call failed,
                # then at most every other second, not at every round that found work.
                assert 1 <= link.probes <= 2 + down_for / 2
                # /ready reuses a result for CACHE_SECONDS: the one from before the kill may still stand
                wait_until("/ready to look again", lambda: ready_checks(client)[0] != 200,
                           timeout=CACHE_SECONDS + 2 * TIMEOUT_SECONDS + 1)
                status, checks = ready_checks(client)
                assert status == 503 and checks["prefect"] == "down" and checks["database"] == "up"

                runs = offline_runs(kontor)
                assert all(run.reason == "Prefect unreachable" and run.reported_at is None and run.error is None
                           for run in runs)
                jobs_run = [run for run in runs if run.kind == "service-jobs"]
                assert sum(run.summary["done"] for run in jobs_run) == 1
                shown = api.get("/offline-runs", params={"unreported_only": "true"}).json()
                assert shown["total"] >= len(runs)  # the worker goes on meanwhile (mailboxes every second)
                assert {item["kind"] for item in shown["items"]} >= {"service-jobs", "timers", "outbox", "mailboxes"}

                # Prefect back: one report flow run puts the gap into Prefect's log.
                since = datetime.now(timezone.utc)
                own_prefect.start()
                wait_until("the catch-up report", lambda: all(run.reported_at for run in offline_runs(kontor)))
                reported = offline_runs(kontor)
                assert len({run.report_flow_run_id for run in reported}) == 1
                after_back = start_demo(kontor, amount=100)
                wait_until("a job after Prefect is back", lambda: count_audit(kontor, "job_completed", after_back))
                assert len(offline_runs(kontor)) == len(reported)  # ran as a flow run again
            finally:
                stop.set()
                worker.join(timeout=30)
            assert not worker.is_alive()

            deadline = time.monotonic() + 30
            while True:
                report_runs, lines = asyncio.run(_report_runs(since))
                if (any("service-jobs:" in line for line in lines) or time.monotonic() > deadline):
                    break
                time.sleep(0.5)
            assert [str(run.id) for run in report_runs] == [reported[0].report_flow_run_id]
            assert report_runs[0].state.is_completed()
            assert any("service-jobs: " in line and "without a flow run" in line for line in lines), lines
            time.sleep(2.1)  # past the readiness cache
            assert ready_checks(client) == (200, {"database": "up", "migrations": "up", "prefect": "up",
                                                  "smtp": "up", "imap:anfragen": "up"})

    # every business effect exactly once
    assert count_audit(kontor, "job_completed", job) == 1
    assert count_audit(kontor, "timer_fired", timer) == 1
    assert len([m for m in inbox(mail_servers, to) if m["Subject"]]) == 1


def test_a_business_error_stays_a_failed_flow_run_even_if_it_looks_like_a_lost_connection(kontor, prefect):
    """Prefect answers: neither a plain error nor a connection error of the work itself (a service the
    work calls is down) makes the round run again without a flow run."""
    import httpx
    from prefect import flow

    calls = []

    def work(kontor, log):
        calls.append("offline")
        return {}

    @flow(name="failing-round")
    def failing(error: str):
        raise ValueError("no budget") if error == "business" else httpx.ConnectError("the CRM is down")

    link = PrefectLink()
    rounds = Rounds(kontor, link)
    since = datetime.now(timezone.utc)
    with pytest.raises(ValueError):
        rounds.run("service-jobs", lambda: failing("business"), work)
    with pytest.raises(httpx.ConnectError):
        rounds.run("service-jobs", lambda: failing("connection"), work)
    assert calls == [] and offline_runs(kontor) == [] and link.up
    assert link.probes == 1  # only the connection error was checked against Prefect's health

    async def states():
        from prefect import get_client
        from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterStartTime
        from prefect.client.schemas.sorting import FlowRunSort

        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["failing-round"])),
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
                sort=FlowRunSort.START_TIME_DESC, limit=10)
        return [run.state.type.value for run in runs]

    assert asyncio.run(states()) == ["FAILED", "FAILED"]


def test_a_worker_started_while_prefect_is_down_works_and_says_so(kontor, tmp_path):
    """`kontor worker` whose Prefect server does not answer (a closed port): it starts, runs a job
    without a flow run, its /health is 200 and its /ready names Prefect down; SIGTERM stops it."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    from pathlib import Path

    from tests.conftest import TEST_BPMN_DIR
    from tests.prefect_process import free_port

    probes = free_port()
    env = {**os.environ, "KONTOR_DATABASE_URL": kontor.settings.resolved_database_url,
           "KONTOR_DATA_DIR": str(tmp_path), "KONTOR_SECRET_KEY": "test-secret-" + "x" * 20,
           "KONTOR_BPMN_PATH": str(TEST_BPMN_DIR), "KONTOR_WORKER_POLL_SECONDS": "0.2",
           "KONTOR_WORKER_HEALTH_PORT": str(probes), "KONTOR_WORKER_PROCESSES": "1",
           "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
           "PREFECT_HOME": str(tmp_path / "prefect")}
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen([str(Path(sys.executable).with_name("kontor")), "worker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)

    def get(path: str):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{probes}{path}", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except OSError:
            return None, None

    try:
        wait_until("the worker's probes", lambda: get("/health")[0] == 200 or worker.poll() is not None, 90)
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        status, body = get("/ready")
        assert status == 503 and body["checks"]["prefect"] == "down" and body["checks"]["database"] == "up"
        job = start_demo(kontor, amount=100)
        wait_until("the job without Prefect, recorded as such", lambda: count_audit(
            kontor, "job_completed", job) == 1 and len({run.kind for run in offline_runs(kontor)}) == 4, 60)
        runs = offline_runs(kontor)  # the job, housekeeping and the day's invoice and dunning runs at the start
        assert {run.kind for run in runs} == {"service-jobs", "housekeeping", "invoice-run", "dunning"}, \
            [run.kind for run in runs]
        assert all(run.worker.endswith(f"-{worker.pid}") for run in runs)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]
