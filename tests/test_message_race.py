"""A message that arrives while the instance that will wait for it is still being saved: neither
transaction sees the other's row yet, and without serialization the message would stay buffered
for ever. Driven with two real transactions on SQLite and PostgreSQL, without sleeping: the instance's
transaction stays open until the sender is seen inside its own one (on PostgreSQL: waiting for the
correlation lock the instance holds; on SQLite: issuing its BEGIN IMMEDIATE behind the open writer)."""
from __future__ import annotations

import threading
import time

from sqlalchemy import event, select, text

from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.messages import correlate_message
from runtime.models import AuditEvent, Message, ProcessInstance

WAITING_FOR_ADVISORY_LOCK = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no race: {what} within {timeout} s")
        time.sleep(0.01)


def test_a_message_racing_with_the_opening_subscription_is_delivered(kontor):
    outcome: dict = {}
    sender_began = threading.Event()

    def send():
        try:
            with kontor.transaction() as session:
                result = correlate_message(session, kontor.runtime, SYSTEM, "test_reply", {"ticket": "T-1"},
                                           message_id="race-1")
                outcome["status"] = result.message.status
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc
        outcome["finished"] = time.monotonic()

    sender = threading.Thread(target=send)

    def seen(conn, cursor, statement, *_):  # the sender's first statement on SQLite: its BEGIN IMMEDIATE
        if threading.current_thread() is sender:
            sender_began.set()

    event.listen(kontor.engine, "before_cursor_execute", seen)
    try:
        with kontor.transaction() as session:
            instance, _ = start_instance(session, kontor.runtime, SYSTEM, "test_message_wait", {"ticket": "T-1"})
            instance_id = instance.id
            sender.start()  # sends while the subscription is written but not committed
            if kontor.engine.dialect.name == "postgresql":
                with kontor.engine.connect() as probe:
                    _wait_for(lambda: probe.execute(WAITING_FOR_ADVISORY_LOCK).scalar() > 0,
                              "the sender never waited for the correlation lock the instance holds")
            else:
                _wait_for(sender_began.is_set, "the sender never began its transaction")
            assert "finished" not in outcome, f"the sender did not wait for the open transaction: {outcome}"
            committing = time.monotonic()
    finally:
        event.remove(kontor.engine, "before_cursor_execute", seen)
    sender.join(timeout=30)
    assert not sender.is_alive()
    assert "error" not in outcome, outcome
    assert outcome["finished"] > committing  # both took part: the sender's transaction overlapped the instance's
    assert outcome["status"] == "delivered"  # the sender found the subscription once it could see it
    with kontor.transaction() as session:
        message = session.scalar(select(Message).where(Message.message_id == "race-1"))
        assert (message.status, message.instance_id) == ("delivered", instance_id)
        assert session.get(ProcessInstance, instance_id).status == "completed"
        kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance_id)).all()
        assert kinds.count("message_correlated") == 1
