"""Workflows kept in memory between an instance's steps: reused only for the exact state the row
holds, never after a rolled-back step, and missed (so loaded from the row) when another process
moved the instance on; and a job whose connection the database dropped is recorded, not run
again. Real databases, the demonstration process, the runtime's own handlers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kernel.principal import SYSTEM
from runtime.jobs import claim_jobs, run_job
from runtime.messages import correlate_message
from runtime.models import ProcessInstance, ServiceJob
from runtime.progress import load_workflow, save_progress
from runtime.runtime import ProcessRuntime
from runtime.workflow_cache import WorkflowCache
from tests.support import instance_row, start_demo

MESSAGE = "demo_supplier_confirmation"


def _run_jobs(kontor, runtime) -> list[str]:
    return [run_job(kontor.sessions, runtime, job).state for job in claim_jobs(kontor.sessions, runtime, 10)]


def test_the_next_step_finds_the_workflow_its_previous_step_saved(kontor):
    instance_id = start_demo(kontor, "cache-1")
    row = instance_row(kontor, instance_id)
    kept = kontor.runtime.workflows.take(instance_id, row.definition_id, row.state)
    assert kept is not None, "the committed start left its workflow for the next step"
    workflow, waiting = kept
    assert kontor.runtime.engine.dump(workflow) == row.state
    assert len(waiting.jobs) == 1
    assert kontor.runtime.workflows.take(instance_id, row.definition_id, row.state) is None  # taken out while used


def test_a_rolled_back_step_leaves_no_half_run_workflow_behind(kontor):
    runtime = kontor.runtime
    instance_id = start_demo(kontor, "cache-2")
    with kontor.transaction() as session:
        job_task = session.scalar(select(ServiceJob.task_id).where(ServiceJob.instance_id == instance_id))
    with pytest.raises(RuntimeError, match="the worker died"):
        with kontor.transaction() as session:
            instance = session.get(ProcessInstance, instance_id)
            workflow, spec = load_workflow(session, runtime, instance)
            runtime.engine.complete_service_task(workflow, job_task, {"reservation_id": "lost"})
            save_progress(session, runtime, instance, workflow, spec, SYSTEM.username)
            raise RuntimeError("the worker died before the commit")
    row = instance_row(kontor, instance_id)
    assert runtime.workflows.take(instance_id, row.definition_id, row.state) is None
    assert row.variables.get("reservation_id") is None
    # the job still waits in the stored state and runs from there
    assert _run_jobs(kontor, runtime) == ["done"]
    assert instance_row(kontor, instance_id).variables["reservation"]["amount"] == "250"


def test_a_step_taken_by_another_process_makes_the_kept_workflow_useless(kontor):
    """Worker B (its own runtime and cache) runs the job; A, still holding the workflow of the
    start, must load the instance from its row for the message, and finish it correctly."""
    runtime_a = kontor.runtime
    runtime_b = ProcessRuntime(kontor.settings, operations=runtime_a.operations)
    instance_id = start_demo(kontor, "cache-3")
    assert _run_jobs(kontor, runtime_b) == ["done"]
    with kontor.transaction() as session:
        result = correlate_message(session, runtime_a, SYSTEM, MESSAGE, {"request_id": "cache-3"},
                                   data={"confirmed_by": "ACME"}, message_id="cache-3")
        assert result.message.status == "delivered"
    row = instance_row(kontor, instance_id)
    assert row.status == "completed"
    assert row.variables["confirmed_by"] == "ACME"
    assert row.variables["reservation"]["amount"] == "250"  # the job's result, which only B's workflow had


def test_the_cache_keeps_only_what_commits_and_only_so_many(kontor):
    cache = WorkflowCache(size=2)
    with kontor.transaction() as session:
        with session.begin_nested():
            session.execute(select(ProcessInstance.id).limit(1))  # the savepoint is really opened
            cache.keep_after_commit(session, 1, 7, "state-1", "workflow-1", None)
        assert len(cache) == 0, "a released savepoint is not the commit"
        session.rollback()
    assert len(cache) == 0
    with kontor.transaction() as session:
        for n in (1, 2, 3):
            cache.keep_after_commit(session, n, 7, f"state-{n}", f"workflow-{n}", None)
    assert len(cache) == 2
    assert cache.take(1, 7, "state-1") is None, "the oldest went first"
    assert cache.take(2, 8, "state-2") is None, "another definition is another workflow"
    assert cache.take(3, 7, "state-3") == ("workflow-3", None)


def test_size_zero_keeps_nothing(kontor):
    cache = WorkflowCache(size=0)
    with kontor.transaction() as session:
        cache.keep_after_commit(session, 1, 7, "state-1", "workflow-1", None)
    assert len(cache) == 0


def test_a_workflow_whose_data_json_would_change_is_not_kept(kontor):
    """A tuple in the data comes back from the stored JSON as a list: a kept workflow would then
    decide differently from a loaded one (`pair == [1, 2]`), so it is loaded from the row."""
    runtime = kontor.runtime
    instance_id = start_demo(kontor, "cache-4")
    with kontor.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        workflow, spec = load_workflow(session, runtime, instance)
        workflow.data["pair"] = (1, 2)
        save_progress(session, runtime, instance, workflow, spec, SYSTEM.username)
    row = instance_row(kontor, instance_id)
    assert runtime.workflows.take(instance_id, row.definition_id, row.state) is None
    with kontor.transaction() as session:
        workflow, _ = load_workflow(session, runtime, session.get(ProcessInstance, instance_id))
    assert workflow.data["pair"] == [1, 2]


def test_a_connection_lost_while_the_job_ran_does_not_make_it_run_again(kontor, monkeypatch):
    """The database drops the worker's pooled connections while an operation runs (a restart):
    its outcome is recorded on a fresh connection; the operation is not run a second time. On
    PostgreSQL the server ends the backends; on SQLite the pooled connections are closed under the
    pool (what a file database has of a restart): either way the next statement finds its connection gone."""
    import psycopg
    from sqlalchemy import event

    from tests.support import PG_ADMIN_URL

    runtime = kontor.runtime
    calls, disconnects = [], []
    original = runtime.operations.get("demo.reserve_budget")

    def reserve_while_the_database_restarts(params, context):
        calls.append(context.job_key)
        if kontor.engine.dialect.name == "postgresql":
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> pg_backend_pid()", (kontor.engine.url.database,))
        else:
            pooled = list(kontor.engine.pool._pool.queue)  # the connections waiting in the pool
            assert pooled, "no pooled connection to lose"
            for record in pooled:
                record.dbapi_connection.close()
        return original(params, context)

    def seen(context):
        if context.is_disconnect:
            disconnects.append(str(context.original_exception))

    def invalidated(dbapi_connection, record, exception):
        disconnects.append(f"invalidated: {exception}")

    monkeypatch.setitem(runtime.operations._operations, "demo.reserve_budget", reserve_while_the_database_restarts)
    instance_id = start_demo(kontor, "cache-5")
    event.listen(kontor.engine, "handle_error", seen)
    event.listen(kontor.engine.pool, "invalidate", invalidated)
    try:
        assert _run_jobs(kontor, runtime) == ["done"]
    finally:
        event.remove(kontor.engine, "handle_error", seen)
        event.remove(kontor.engine.pool, "invalidate", invalidated)
    assert disconnects, "the fault was not injected: no statement found its connection gone"
    assert len(calls) == 1
    assert instance_row(kontor, instance_id).variables["reservation"]["amount"] == "250"
