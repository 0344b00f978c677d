"""The runtime's write path: a step's writes sent together (psycopg's pipeline on PostgreSQL)
all land or none does, a failing one surfaces as the database error, and the connection pool
stays usable; the instance row's version check refuses a stale update."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kernel.driver_sql import Batch
from kernel.errors import Conflict
from runtime.models import AuditEvent, ProcessInstance
from runtime.progress import load_workflow, save_progress
from runtime.store import audit_event, core, pipelined, update_instance, write_events
from tests.support import instance_row, start_demo


def _audit_count(kontor, kind: str) -> int:
    with kontor.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind))


def test_a_pipeline_of_writes_lands_whole(kontor):
    with kontor.transaction() as session:
        with pipelined(session):
            write_events(session, [audit_event(None, "pipeline_probe", "test", n=n) for n in range(3)])
            write_events(session, [audit_event(None, "pipeline_probe", "test", n=3)])
    assert _audit_count(kontor, "pipeline_probe") == 4


def test_a_failing_write_in_the_pipeline_rolls_the_whole_step_back(kontor):
    with pytest.raises(IntegrityError):
        with kontor.transaction() as session:
            write_events(session, [audit_event(None, "pipeline_before", "test")])
            with pipelined(session):
                write_events(session, [audit_event(None, "pipeline_failed", "test")])
                write_events(session, [audit_event(2_000_000_000, "pipeline_failed", "test")])  # no such instance
    assert _audit_count(kontor, "pipeline_before") == 0
    assert _audit_count(kontor, "pipeline_failed") == 0
    for _ in range(3):  # the pool hands out working connections afterwards
        with kontor.transaction() as session:
            write_events(session, [audit_event(None, "pipeline_after", "test")])
    assert _audit_count(kontor, "pipeline_after") == 3


def _moved_on_meanwhile(kontor, request_id: str):
    """An instance read at version 1, then moved on to version 2 by another transaction: its id and
    the stale object."""
    instance_id = start_demo(kontor, request_id)
    stale = instance_row(kontor, instance_id)  # read at version 1
    with kontor.transaction() as other:
        update_instance(other, other.get(ProcessInstance, instance_id), {"business_key": "moved"})
    return instance_id, stale


def test_an_update_of_an_instance_someone_else_moved_on_is_a_conflict(kontor):
    instance_id, stale = _moved_on_meanwhile(kontor, "store-1")
    with pytest.raises(Conflict):
        with kontor.transaction() as session:
            session.add(stale)  # still believes in version 1
            update_instance(session, stale, {"business_key": "stale"})
    row = instance_row(kontor, instance_id)
    assert (row.business_key, row.version) == ("moved", 2)


def test_an_orm_change_before_the_update_is_written_first_and_is_no_conflict(kontor):
    """A change made through the ORM (here the business key) is flushed before the versioned
    update reads the version it expects: the flush raises the row's version itself, so reading
    the version first made the update miss its own row and report someone else's change."""
    instance_id = start_demo(kontor, "store-flush")
    with kontor.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        instance.business_key = "changed through the ORM"
        update_instance(session, instance, {"status": instance.status})
    row = instance_row(kontor, instance_id)
    assert (row.business_key, row.version) == ("changed through the ORM", 3)


def test_a_failed_pipeline_inside_a_savepoint_leaves_the_transaction_usable(kontor):
    """As mail intake does: one step fails inside its savepoint, the rest of the transaction commits."""
    with kontor.transaction() as session:
        write_events(session, [audit_event(None, "pipeline_kept", "test")])
        with pytest.raises(IntegrityError):
            with session.begin_nested():
                with pipelined(session):
                    write_events(session, [audit_event(2_000_000_000, "pipeline_dropped", "test")])
        write_events(session, [audit_event(None, "pipeline_kept", "test")])
    assert _audit_count(kontor, "pipeline_kept") == 2
    assert _audit_count(kontor, "pipeline_dropped") == 0


def test_after_a_savepoint_rolls_back_the_instance_is_read_again(kontor):
    instance_id = start_demo(kontor, "store-2")
    with kontor.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                update_instance(session, instance, {"business_key": "rolled back"})
                assert instance.version == 2
                raise RuntimeError("the step failed")
        assert (instance.business_key, instance.version) == (None, 1)  # as the row is again
        update_instance(session, instance, {"business_key": "kept"})  # no false conflict
    row = instance_row(kontor, instance_id)
    assert (row.business_key, row.version) == ("kept", 2)


def test_after_a_transaction_begun_by_a_pipeline_the_next_one_is_transactional_again(kontor):
    """A pipeline that opens a transaction sends its BEGIN itself (psycopg's own BEGIN is off
    meanwhile). Once that transaction ends, by commit or by rollback, the pooled connection
    begins its next transactions itself again: their writes are undone by a rollback."""
    from sqlalchemy import insert

    from kernel.clock import utcnow
    from kernel.db import make_engine, make_session_factory, transaction

    engine = make_engine(kontor.settings.resolved_database_url, pool_size=1, max_overflow=0)  # one connection
    factory = make_session_factory(engine)

    def plain_insert_then_fail(kind: str) -> None:
        with pytest.raises(RuntimeError):
            with transaction(factory) as session:
                session.execute(insert(AuditEvent).values(kind=kind, actor="test", details={}, at=utcnow()))
                raise RuntimeError("rolled back")

    try:
        with transaction(factory) as session:
            with pipelined(session):
                write_events(session, [audit_event(None, "begun_here_committed", "test")])
        plain_insert_then_fail("after_commit_rolled_back")
        with pytest.raises(RuntimeError):
            with transaction(factory) as session:
                with pipelined(session):
                    write_events(session, [audit_event(None, "begun_here_rolled_back", "test")])
                session.execute(insert(AuditEvent).values(kind="begun_here_rolled_back", actor="test", details={},
                                                          at=utcnow()))
                raise RuntimeError("rolled back")
        plain_insert_then_fail("after_rollback_rolled_back")
        assert _audit_count(kontor, "begun_here_committed") == 1
        assert _audit_count(kontor, "begun_here_rolled_back") == 0  # both of its writes, as one transaction
        assert _audit_count(kontor, "after_commit_rolled_back") == 0
        assert _audit_count(kontor, "after_rollback_rolled_back") == 0
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                assert connection.connection.driver_connection.autocommit is False
    finally:
        engine.dispose()


def test_a_batch_writes_its_parts_together_each_with_its_own_values(kontor):
    instance_id = start_demo(kontor, "batch-1")
    with kontor.transaction() as session:
        batch = Batch()
        write_events(session, [audit_event(instance_id, "batch_first", "ann", "Task_a", n=1)], batch)
        write_events(session, [], batch)  # an empty part adds nothing
        write_events(session, [audit_event(instance_id, "batch_second", "bob", None, n=2, note="two"),
                               audit_event(None, "batch_third", "cy", "Task_c")], batch)
        batch.execute(core(session))
    with kontor.transaction() as session:
        events = session.execute(select(AuditEvent.instance_id, AuditEvent.kind, AuditEvent.actor, AuditEvent.task_spec,
                                        AuditEvent.details)
                                 .where(AuditEvent.kind.like("batch_%")).order_by(AuditEvent.kind)).all()
    # (the parts of one batch come in no particular order; the rows of one part keep theirs)
    assert [tuple(e) for e in events] == [(instance_id, "batch_first", "ann", "Task_a", {"n": 1}),
                                          (instance_id, "batch_second", "bob", None, {"n": 2, "note": "two"}),
                                          (None, "batch_third", "cy", "Task_c", {})]


def test_rows_beyond_the_parameter_limit_go_into_further_statements(kontor):
    """PostgreSQL takes at most 65,535 parameters per statement: 12,000 audit rows (72,000 values)
    in one batch with another part are split, and all of them land."""
    with kontor.transaction() as session:
        batch = Batch()
        write_events(session, [audit_event(None, "batch_many_first", "test")], batch)
        write_events(session, [audit_event(None, "batch_many", "test", n=n) for n in range(12_000)], batch)
        batch.execute(core(session))
    assert _audit_count(kontor, "batch_many") == 12_000
    assert _audit_count(kontor, "batch_many_first") == 1


def test_a_step_on_an_instance_that_moved_on_is_a_conflict_even_when_a_later_write_fails(kontor):
    """The versioned update goes first in the step: its row count is known even when a write sent
    after it fails (as one colliding with the other step's rows would), and the Conflict it
    follows from is what is reported."""
    runtime = kontor.runtime
    instance_id, stale = _moved_on_meanwhile(kontor, "batch-2")
    with pytest.raises(Conflict):
        with kontor.transaction() as session:
            session.add(stale)
            workflow, spec = load_workflow(session, runtime, stale)
            save_progress(session, runtime, stale, workflow, spec, "test",
                          events=[audit_event(2_000_000_000, "step_failed", "test")])  # no such instance
    row = instance_row(kontor, instance_id)
    assert (row.business_key, row.version) == ("moved", 2)


def test_a_failing_write_of_a_step_is_reported_as_itself(kontor):
    runtime = kontor.runtime
    instance_id = start_demo(kontor, "batch-3")
    with pytest.raises(IntegrityError):
        with kontor.transaction() as session:
            instance = session.get(ProcessInstance, instance_id)
            workflow, spec = load_workflow(session, runtime, instance)
            save_progress(session, runtime, instance, workflow, spec, "test",
                          events=[audit_event(2_000_000_000, "step_failed", "test")])  # no such instance
    assert instance_row(kontor, instance_id).version == 1
