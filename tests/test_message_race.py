"""A message that arrives while the instance that will wait for it is still being saved: neither
transaction sees the other's row yet, and without serialization the message would stay buffered
for ever. Driven with two real transactions on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import time

from sqlalchemy import select

from domain.users import SYSTEM
from runtime.instances import start_instance
from runtime.messages import correlate_message
from runtime.models import Message, ProcessInstance


def test_a_message_racing_with_the_opening_subscription_is_delivered(kontor):
    outcome: dict = {}

    def send():
        try:
            with kontor.transaction() as session:
                result = correlate_message(session, kontor.runtime, SYSTEM, "test_reply", {"ticket": "T-1"},
                                           message_id="race-1")
                outcome["status"] = result.message.status
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "test_message_wait", {"ticket": "T-1"})
        instance_id = instance.id
        sender.start()  # sends while the subscription is written but not committed
        time.sleep(0.5)
    sender.join(timeout=30)
    assert "error" not in outcome, outcome
    with kontor.transaction() as session:
        message = session.scalar(select(Message).where(Message.message_id == "race-1"))
        assert (message.status, message.instance_id) == ("delivered", instance_id)
        assert session.get(ProcessInstance, instance_id).status == "completed"
