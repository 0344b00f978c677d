"""Buffered messages and subscriptions that open in the same step (Zeebe's semantics): each open
subscription takes the oldest buffered message that matches it, no message goes to two of them,
and a subscription whose message went to another looks again. On SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.messages import correlate_message
from runtime.models import AuditEvent, Message, MessageSubscription, ProcessInstance


def _send(kontor, ticket: str, message_id: str, data: dict | None = None):
    with kontor.transaction() as session:
        return correlate_message(session, kontor.runtime, SYSTEM, "test_answer", {"ticket": ticket}, data,
                                 message_id=message_id).message.status


def _start(kontor, ticket: str) -> int:
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "test_two_replies", {"ticket": ticket})
        return instance.id


def _messages(kontor, ticket: str) -> dict[str, tuple[str, int | None]]:
    with kontor.transaction() as session:
        rows = session.scalars(select(Message).where(Message.name == "test_answer",
                                                     Message.correlation_key == f'{{"ticket":"{ticket}"}}'))
        return {m.message_id: (m.status, m.instance_id) for m in rows}


def test_two_buffered_messages_go_one_each_to_two_subscriptions_opened_together(kontor):
    assert _send(kontor, "T-both", "both-1") == "buffered"
    assert _send(kontor, "T-both", "both-2") == "buffered"
    instance_id = _start(kontor, "T-both")
    with kontor.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "completed"
        correlated = session.scalars(select(AuditEvent.details).where(
            AuditEvent.instance_id == instance_id, AuditEvent.kind == "message_correlated")).all()
        assert sorted(d["message_id"] for d in correlated) == ["both-1", "both-2"]
        assert session.scalars(select(MessageSubscription).where(
            MessageSubscription.instance_id == instance_id)).all() == []
    assert _messages(kontor, "T-both") == {"both-1": ("delivered", instance_id), "both-2": ("delivered", instance_id)}


def test_one_buffered_message_goes_to_one_subscription_and_the_other_waits(kontor):
    assert _send(kontor, "T-one", "one-1") == "buffered"
    instance_id = _start(kontor, "T-one")
    with kontor.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "running"
        waiting = session.scalars(select(MessageSubscription).where(
            MessageSubscription.instance_id == instance_id)).all()
        assert len(waiting) == 1
    assert _messages(kontor, "T-one") == {"one-1": ("delivered", instance_id)}
    assert _send(kontor, "T-one", "one-2") == "delivered"  # the second answer finds the open subscription
    with kontor.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "completed"
