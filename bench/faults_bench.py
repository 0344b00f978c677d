"""Kontor under faults (PostgreSQL): the API (`kontor serve`) and a worker (`kontor worker`, with a
Prefect server) as processes of their own, 4 client threads driving the demonstration process over
HTTP (start, claim and complete the review, send the supplier's confirmation; every write with an
Idempotency-Key, sent again with the same key after a 503, a 409 or a broken connection), every
Kontor connection ended by pg_terminate_backend every few seconds, and the worker killed (SIGKILL)
once and a new one started. Reports throughput, p95, answers by status, how long the new worker
took to finish what the dead one left, and the invariants checked by SQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg

from bench.common import PG_ADMIN_URL, PG_BENCH_DB, summary_ms
from bench.http_bench import _free_port
from domain.users import add_user

KONTOR = Path(sys.executable).with_name("kontor")
OBSERVER = "kontor-bench-observer"  # the bench's own connections: never terminated
MESSAGE = "demo_supplier_confirmation"


class Faults:
    """The run's shared state: answers by status, latencies, what the clients finished."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.started = self.finished = self.abandoned = 0


def _observer() -> psycopg.Connection:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"
    return psycopg.connect(url, autocommit=True, application_name=OBSERVER)


def _process(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([str(KONTOR), *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_healthy(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _call(client: httpx.Client, faults: Faults, method: str, path: str, key: str | None = None, **kwargs):
    """The 2xx answer, sending again (same key) after a 503, a 409 or a broken connection; None after
    50 tries."""
    headers = {**kwargs.pop("headers"), **({"Idempotency-Key": key} if key else {})}
    for _ in range(50):
        began = time.perf_counter()
        try:
            reply = client.request(method, path, headers=headers, **kwargs)
            status = reply.status_code
        except httpx.HTTPError:
            reply, status = None, "connection"
        with faults.lock:
            faults.statuses[status] += 1
            if reply is not None and status < 300:
                faults.latencies.append(time.perf_counter() - began)
        if reply is not None and status < 300:
            return reply
        wait = float(reply.headers.get("Retry-After", 0.2)) if reply is not None else 0.2
        time.sleep(min(wait, 1.0))
    return None


def _client_loop(base: str, tokens: dict, faults: Faults, name: str, until: float) -> None:
    sales, reviewer = tokens["sales"], tokens["reviewer"]
    with httpx.Client(base_url=base, timeout=30) as client:
        n = 0
        while time.monotonic() < until:
            n += 1
            rid = f"F-{name}-{n}"
            started = _call(client, faults, "POST", "/api/v1/process-instances", f"{rid}-start", headers=sales,
                            json={"process": "demo_request",
                                  "data": {"amount": 5000, "request_id": rid, "cooling_off": "PT1S"}})
            if started is None:
                with faults.lock:
                    faults.abandoned += 1
                continue
            with faults.lock:
                faults.started += 1
            inbox = _call(client, faults, "GET", "/api/v1/tasks", headers=reviewer,
                          params={"process": "demo_request", "instance_id": started.json()["id"]})
            items = inbox.json()["items"] if inbox is not None else []
            done = len(items) == 1
            if done:
                task = f"/api/v1/tasks/{items[0]['id']}"
                done = (_call(client, faults, "POST", f"{task}/claim", f"{rid}-claim", headers=reviewer) is not None
                        and _call(client, faults, "POST", f"{task}/complete", f"{rid}-complete", headers=reviewer,
                                  json={"data": {"approved": True}}) is not None
                        and _call(client, faults, "POST", "/api/v1/messages", f"{rid}-message", headers=sales,
                                  json={"name": MESSAGE, "correlation": {"request_id": rid}}) is not None)
            with faults.lock:
                if done:
                    faults.finished += 1
                else:
                    faults.abandoned += 1


def _terminate_every(seconds: float, until: float, counts: Counter) -> None:
    with _observer() as conn:
        while time.monotonic() < until:
            time.sleep(seconds)
            ended = conn.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                 "AND application_name <> %s AND backend_type = 'client backend'",
                                 (OBSERVER,)).fetchone()[0]
            counts["rounds"] += 1
            counts["connections ended"] += ended


class Workers:
    """`kontor worker` processes, one at a time; one that exits by itself (it may fail to start while
    its connections are being ended) is replaced, as a process supervisor would."""

    def __init__(self, env: dict, data_dir: Path):
        self.env, self.data_dir = env, data_dir
        self.lock = threading.Lock()
        self.processes: list[subprocess.Popen] = []
        self.replaced = 0
        self.stopped = threading.Event()
        self.start()
        threading.Thread(target=self._keep_one_running, daemon=True).start()

    def start(self) -> None:
        with self.lock:
            log = self.data_dir / f"worker-{len(self.processes) + 1}.log"
            self.processes.append(_process(["worker"], self.env, log))

    def kill(self) -> None:
        """SIGKILL of the running worker, and a new one started."""
        with self.lock:
            self.processes[-1].send_signal(signal.SIGKILL)
            self.processes[-1].wait()
            log = self.data_dir / f"worker-{len(self.processes) + 1}.log"
            self.processes.append(_process(["worker"], self.env, log))

    def _keep_one_running(self) -> None:
        while not self.stopped.wait(0.5):
            with self.lock:
                if self.processes[-1].poll() is None:
                    continue
                self.replaced += 1
                self.processes.append(_process(["worker"], self.env,
                                               self.data_dir / f"worker-{len(self.processes) + 1}.log"))

    def stop(self) -> None:
        self.stopped.set()
        with self.lock:
            for process in self.processes:
                _stop(process)


def _unfinished_jobs(conn) -> set[int]:
    return {row[0] for row in conn.execute("SELECT id FROM service_job WHERE state IN ('ready', 'running')")}


def _recovery(left: set[int], since: float, give_up: float) -> float | None:
    """Seconds from `since` until every job in `left` is done (None: not within `give_up`)."""
    with _observer() as conn:
        while time.monotonic() < give_up:
            if left:
                remaining = conn.execute("SELECT count(*) FROM service_job WHERE id = ANY(%s) AND state <> 'done'",
                                         (list(left),)).fetchone()[0]
            else:
                remaining = 0
            if remaining == 0:
                return round(time.monotonic() - since, 2)
            time.sleep(0.25)
    return None


def fault_load(kontor, seconds: float = 60.0, clients: int = 4, drop_every: float = 3.0,
               settle_seconds: float = 420.0) -> dict:
    """The worker is killed a third into the load; afterwards up to `settle_seconds` for the new
    worker to finish what was left (a job claimed by the dead worker waits for its lease)."""
    from cli.embedded import start_prefect_server

    with kontor.transaction() as session:
        add_user(session, "fault-sales", "fault-sales-password", ["sales"])
        add_user(session, "fault-reviewer", "fault-reviewer-password", ["reviewer"])
    data_dir = kontor.settings.data_dir
    kontor.settings.prefect_port = _free_port()
    prefect = start_prefect_server(kontor.settings, data_dir / "prefect.log")  # (sets PREFECT_API_URL here)
    port = _free_port()
    env = {**os.environ, "KONTOR_DATABASE_URL": kontor.settings.resolved_database_url,
           "KONTOR_DATA_DIR": str(data_dir), "KONTOR_SECRET_KEY": kontor.settings.signing_key(),
           "KONTOR_WORKER_POLL_SECONDS": "0.5"}
    api = _process(["serve", "--host", "127.0.0.1", "--port", str(port)], env, data_dir / "api.log")
    workers = Workers(env, data_dir)
    faults, drops = Faults(), Counter()
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{base}/healthz", api)
        tokens = {}
        for role in ("sales", "reviewer"):
            reply = httpx.post(f"{base}/api/v1/auth/token",
                               data={"username": f"fault-{role}", "password": f"fault-{role}-password"})
            reply.raise_for_status()
            tokens[role] = {"Authorization": f"Bearer {reply.json()['access_token']}"}
        with _observer() as conn:  # (earlier sections and the warm-up made instances of their own)
            first_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM process_instance").fetchone()[0]
        begin = time.monotonic()
        until = begin + seconds
        threads = [threading.Thread(target=_client_loop, args=(base, tokens, faults, f"c{n}", until))
                   for n in range(clients)]
        threads.append(threading.Thread(target=_terminate_every, args=(drop_every, until, drops)))
        for thread in threads:
            thread.start()
        kill_after = round(seconds / 3, 1)
        time.sleep(kill_after)
        workers.kill()
        new_worker_at = time.monotonic()
        with _observer() as conn:
            left = _unfinished_jobs(conn)
        recovered: list = []
        watcher = threading.Thread(target=lambda: recovered.append(
            _recovery(left, new_worker_at, new_worker_at + settle_seconds)))
        watcher.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - begin
        watcher.join()
        settled = _settle(faults, first_id, time.monotonic() + settle_seconds)
        with _observer() as conn:
            invariants = check_invariants(conn, faults, first_id)
    finally:
        workers.stop()
        for process in (api, prefect):
            _stop(process)
    return {"seconds": round(elapsed, 1), "clients": clients,
            "instances_started": faults.started, "instances_finished_by_clients": faults.finished,
            "instances_abandoned": faults.abandoned, "instances_per_s": round(faults.finished / elapsed, 1),
            "requests_per_s": round(len(faults.latencies) / elapsed, 1),
            "latency": summary_ms(faults.latencies) if faults.latencies else {},
            "answers_by_status": {str(k): v for k, v in sorted(faults.statuses.items(), key=str)},
            "connection_drops": dict(drops), "worker_killed_at_s": kill_after,
            "jobs_left_by_the_killed_worker": len(left), "workers_that_exited_by_themselves": workers.replaced,
            "recovery_s_after_new_worker": recovered[0] if recovered else None,
            "settled_s": settled, "invariants": invariants}


def _settle(faults: Faults, first_id: int, give_up: float) -> float | None:
    """Seconds until every instance the clients finished is completed and no key is still reserved."""
    began = time.monotonic()
    with _observer() as conn:
        while time.monotonic() < give_up:
            completed, reserved = conn.execute(
                "SELECT (SELECT count(*) FROM process_instance WHERE status = 'completed' AND id >= %s), "
                "(SELECT count(*) FROM idempotency_record WHERE status_code IS NULL)", (first_id,)).fetchone()
            if completed >= faults.finished and reserved == 0:
                return round(time.monotonic() - began, 2)
            time.sleep(0.5)
    return None


def check_invariants(conn, faults: Faults, first_id: int) -> dict:
    """Each must hold: the business effects of the run (instances from `first_id` on), exactly once."""
    def none(sql: str) -> bool:
        return conn.execute(sql, {"first": first_id}).fetchone()[0] == 0

    run = "p.id >= %(first)s"
    once = ("SELECT count(*) FROM process_instance p WHERE " + run + " AND p.status = 'completed' AND "
            "(SELECT count(*) FROM audit_event a WHERE a.instance_id = p.id AND a.kind = '{}') <> 1")
    instances, completed = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'completed') FROM process_instance p WHERE " + run,
        {"first": first_id}).fetchone()
    checks = {
        "one instance per start answered": instances == faults.started,
        "every finished instance completed": completed == faults.finished,
        "every job done": none("SELECT count(*) FROM service_job j JOIN process_instance p ON p.id = j.instance_id "
                               "WHERE " + run + " AND j.state <> 'done'"),
        "every job completed once": none(once.format("job_completed")),
        "every timer fired once": none(once.format("timer_fired")),
        "one audit row per kind and instance": none(
            "SELECT count(*) FROM (SELECT instance_id, kind FROM audit_event a JOIN process_instance p "
            "ON p.id = a.instance_id WHERE " + run + " GROUP BY instance_id, kind HAVING count(*) > 1) doubled"),
        "every key answerable": none("SELECT count(*) FROM idempotency_record WHERE status_code IS NULL"),
    }
    checks["all hold"] = all(checks.values())
    return checks
