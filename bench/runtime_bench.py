"""Runtime benchmarks without HTTP or Prefect: how many instances the runtime's handlers carry per
second (start, service job, message, timer, each its own transaction), compared with SpiffWorkflow
alone in memory; a 1000-iteration loop instance; and the same throughput again after 100,000
finished instances are in the tables."""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import stopwatch
from kernel.principal import SYSTEM
from runtime.instances import latest_definition, start_instance
from runtime.jobs import claim_jobs, run_jobs
from runtime.messages import correlate_message
from runtime.models import AuditEvent, ProcessInstance, ServiceJob
from runtime.timers import fire_due_timers

PROCESS = "demo_request"  # the demonstration process; amounts below 1000 need no review
MESSAGE = "demo_supplier_confirmation"


def _request(n: int, run: str) -> dict:
    return {"amount": 250 + n % 500, "request_id": f"{run}-{n}"}


def lifecycle_throughput(kontor, instances: int, run: str = "a") -> dict:
    """Each instance: start (script, DMN, gateway → service job), the job, the supplier's message
    (and the cooling-off timer of PT0S behind it) → completed. Every step is its own transaction,
    as in production."""
    runtime, factory = kontor.runtime, kontor.sessions
    steps: dict[str, float] = {}
    with stopwatch() as total:
        with stopwatch() as took:
            for n in range(instances):
                with kontor.transaction() as session:
                    start_instance(session, runtime, SYSTEM, PROCESS, _request(n, run))
        steps["start"] = took()
        with stopwatch() as took:
            # Driver processes running side by side claim each other's jobs too, as workers do:
            # this step ends when no job is left unfinished, whoever ran it.
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                jobs = claim_jobs(factory, runtime, kontor.settings.job_batch_size)
                for outcome in run_jobs(factory, runtime, jobs):  # (as the worker's flow runs them)
                    if outcome.state != "done":
                        raise RuntimeError(f"service job failed in the benchmark: {outcome}")
                if not jobs:
                    with kontor.transaction() as session:
                        if not _unfinished_jobs(session):
                            break
                    time.sleep(0.02)  # the other driver is still running its batch
            else:
                raise RuntimeError("service jobs were still unfinished after 600 s")
        steps["service_job"] = took()
        with stopwatch() as took:
            for n in range(instances):
                with kontor.transaction() as session:
                    correlate_message(session, runtime, SYSTEM, MESSAGE, {"request_id": f"{run}-{n}"},
                                      message_id=f"bench-{run}-{n}")
        steps["message"] = took()
        while fire_due_timers(factory, runtime, kontor.settings.timer_batch_size):
            pass  # the cooling-off timer (PT0S) is due at once and fires within the message step
    with kontor.transaction() as session:
        completed = session.query(ProcessInstance).filter(ProcessInstance.status == "completed",
                                                          ProcessInstance.process_key == PROCESS).count()
    if completed < instances:
        raise RuntimeError(f"only {completed} of {instances} instances completed")
    return {"instances": instances, "seconds": round(total(), 2),
            "instances_per_s": round(instances / total(), 1),
            "steps_per_s": {name: round(instances / secs, 1) for name, secs in steps.items()}}


def _unfinished_jobs(session) -> int:
    return session.scalar(select(func.count()).select_from(ServiceJob)
                          .where(ServiceJob.state.in_(("ready", "running"))))


def bare_spiffworkflow(kontor, instances: int) -> dict:
    """The same lifecycle with SpiffWorkflow alone, in memory: no database, no serialization."""
    engine = kontor.runtime.engine
    with kontor.transaction() as session:
        _, spec = kontor.runtime.spec_for(session, latest_definition(session, PROCESS).id)
    with stopwatch() as total:
        for n in range(instances):
            workflow = engine.start(spec, _request(n, "bare"))
            job = engine.snapshot(workflow, spec).service_jobs[0]
            engine.complete_service_task(workflow, job.task_id, {"reservation_id": f"B-{n}"})
            wait = engine.snapshot(workflow, spec).messages[0]
            engine.deliver_message(workflow, wait.task_id, MESSAGE, {})
            engine.fire_timers(workflow)
            if not engine.snapshot(workflow, spec).completed:
                raise RuntimeError("the in-memory instance did not complete")
    return {"instances": instances, "seconds": round(total(), 2), "instances_per_s": round(instances / total(), 1)}


REFERENCE_PER_S = 600.0  # the reference process's rate on this machine at its usual speed (DESIGN.md section 9)


def reference_speed(instances: int = 1000) -> dict:
    """How fast this machine is just now: the reference process (bench/reference/six_steps.bpmn, a
    6-step process) run by SpiffWorkflow alone in a process of its own, with a JSON save and load
    at its wait, as the issue's and the design notes' figure of about 600 instances/s was taken.
    `speed` is the rate divided by 600: Kontor's figures measured beside it, divided by `speed`,
    are what this machine gives at its usual speed."""
    script = Path(__file__).parent / "reference" / "reference_speed.py"
    done = subprocess.run([sys.executable, str(script), str(instances)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"the reference process failed: {done.stderr[-2000:]}")
    rate = json.loads(done.stdout)["instances_per_s"]
    return {"instances": instances, "instances_per_s": rate, "speed": round(rate / REFERENCE_PER_S, 2)}


def long_loop_instance(kontor, iterations: int = 1000, process: str = "bench_loop") -> dict:
    """One instance whose script task runs `iterations` times before it ends (one transaction):
    `bench_loop` uses a loop task, `bench_gateway_loop` a loop drawn with gateways."""
    with stopwatch() as took:
        with kontor.transaction() as session:
            instance, _ = start_instance(session, kontor.runtime, SYSTEM, process, {"iterations": iterations})
            status, size = instance.status, len(instance.state)
    if status != "completed":
        raise RuntimeError(f"the loop instance is {status}, not completed")
    return {"iterations": iterations, "seconds": round(took(), 3), "state_kib": round(size / 1024, 1)}


def add_finished_instances(kontor, count: int, chunk: int = 5000) -> float:
    """Fill the tables with `count` finished instances (and one audit row each), as a year of use would."""
    with kontor.transaction() as session:
        definition_id = latest_definition(session, PROCESS).id
    now = datetime.now(timezone.utc)
    with stopwatch() as took:
        for first in range(0, count, chunk):
            rows = [{"process_key": PROCESS, "definition_id": definition_id, "business_key": f"old-{n}",
                     "status": "completed", "state": "{}", "variables": {"amount": 100, "request_id": f"old-{n}"},
                     "started_by": "system", "started_at": now, "updated_at": now, "ended_at": now, "version": 1}
                    for n in range(first, min(count, first + chunk))]
            with kontor.transaction() as session:
                ids = session.scalars(insert(ProcessInstance).returning(ProcessInstance.id), rows).all()
                session.execute(insert(AuditEvent), [{"instance_id": i, "kind": "instance_completed",
                                                      "actor": "system", "details": {}, "at": now} for i in ids])
    if kontor.engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load, in production too
        with kontor.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    with kontor.transaction() as session:
        total = session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()).limit(1))
    if not total or total < count:
        raise RuntimeError("the finished instances were not written")
    return round(took(), 1)


def warm_up(kontor) -> None:
    """Parse caches, connection pool and first imports: not part of any figure."""
    lifecycle_throughput(kontor, 5, run="warm")
    time.sleep(0.1)


def _lifecycle_in_process(url: str, data_dir: str, instances: int, run: str, rounds: int, barrier) -> list[dict]:
    from bench.common import BENCH_BPMN_DIR
    from kontor.bootstrap import bootstrap, set_current, settle_long_running_process
    from kontor.settings import Settings

    settings = Settings(database_url=url, data_dir=data_dir, secret_key="bench-secret-" + "x" * 24,
                        bpmn_path=[BENCH_BPMN_DIR])
    try:
        kontor = bootstrap(settings, run_migrations=False)
        set_current(kontor)
        settle_long_running_process()  # as `kontor serve` and `kontor worker` do
        lifecycle_throughput(kontor, 5, run=f"{run}-warm")
    except BaseException:
        barrier.abort()  # the other drivers and the timer stop waiting; the error is reported
        raise
    results = []
    try:
        barrier.wait(timeout=600)  # ready (the bare rate is measured on an idle machine)
        for n in range(rounds):
            barrier.wait(timeout=600)  # the round starts for all drivers at once ...
            try:
                results.append(lifecycle_throughput(kontor, instances, run=f"{run}-{n}"))
            except BaseException:
                barrier.abort()
                raise
            barrier.wait(timeout=600)  # ... and ends when the last is done
        return results
    finally:
        kontor.dispose()


def parallel_lifecycle(kontor, processes: int, instances: int, rounds: int = 3) -> dict:
    """The lifecycle driven by several processes at once on one database, as API and workers run
    side by side in production; each process takes its share of the instances, in `rounds`
    rounds. This machine's speed drifts by up to a half within minutes (other guests take its
    cores): each round is timed on its own and reported beside bare SpiffWorkflow's rate and the
    machine's speed (reference_speed) measured just before it. The figure is the median round;
    `at_usual_speed` is the median of each round's rate divided by its machine speed."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    share = instances // processes
    per_round = []
    with context.Manager() as manager:
        barrier = manager.Barrier(processes + 1)
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            futures = [pool.submit(_lifecycle_in_process, kontor.settings.resolved_database_url,
                                   str(kontor.settings.data_dir), share, f"par{n}", rounds, barrier)
                       for n in range(processes)]
            try:
                barrier.wait(timeout=600)
                for _ in range(rounds):
                    bare = bare_spiffworkflow(kontor, 500)["instances_per_s"]
                    speed = reference_speed(500)["speed"]
                    barrier.wait(timeout=600)
                    with stopwatch() as took:
                        barrier.wait(timeout=600)
                    per_round.append((round(share * processes / took(), 1), bare, speed))
            except threading.BrokenBarrierError:
                raise RuntimeError(f"a driver process failed: {[f.exception() for f in futures]}") from None
            results = [f.result() for f in futures]
    return {"processes": processes, "instances_per_round": share * processes,
            "instances_per_s": statistics.median(rate for rate, _, _ in per_round),
            "at_usual_speed": round(statistics.median(rate / speed for rate, _, speed in per_round), 1),
            "rounds": [{"instances_per_s": rate, "bare_spiffworkflow_per_s": bare, "machine_speed": speed}
                       for rate, bare, speed in per_round],
            "per_process_instances_per_s": [[r["instances_per_s"] for r in driver] for driver in results]}
