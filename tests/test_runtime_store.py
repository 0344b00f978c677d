"""The runtime's write path: a step's writes sent together (psycopg's pipeline on PostgreSQL)
all land or none does, a failing one surfaces as the database error, and the connection pool
stays usable; the instance row's version check refuses a stale update."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from runtime.errors import Conflict
from runtime.models import AuditEvent, ProcessInstance
from runtime.store import audit_event, pipelined, update_instance, write_events
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


def test_an_update_of_an_instance_someone_else_moved_on_is_a_conflict(kontor):
    instance_id = start_demo(kontor, "store-1")
    stale = instance_row(kontor, instance_id)  # read at version 1
    with kontor.transaction() as other:
        update_instance(other, other.get(ProcessInstance, instance_id), {"business_key": "moved"})
    with pytest.raises(Conflict):
        with kontor.transaction() as session:
            session.add(stale)  # still believes in version 1
            update_instance(session, stale, {"business_key": "stale"})
    row = instance_row(kontor, instance_id)
    assert (row.business_key, row.version) == ("moved", 2)


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
