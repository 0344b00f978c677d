"""Message correlation with Zeebe's semantics.

A message has a name, correlation values and a message id. It is delivered to the one
instance whose open subscription has the same name and the same correlation values,
in the same transaction as that instance's update. Nobody waiting: it is buffered until
its time-to-live ends and delivered when a subscription opens. The same message id a
second time has no second effect. More than one waiting instance: refused (409) with
the candidates named, never handed to a random one.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.users import Principal
from kontor.db import dialect_insert, lock_correlation, utcnow
from runtime.engine import ProcessError, canonical_correlation
from runtime.errors import Conflict, ValidationFailed
from runtime.models import Message, MessageSubscription, ProcessInstance
from runtime.progress import audit, deliver, jsonable, load_workflow, message_expiry, save_progress
from runtime.runtime import ProcessRuntime


@dataclass
class Correlation:
    message: Message
    duplicate: bool  # the message id was seen before: this is the first outcome, replayed


def correlate_message(session: Session, runtime: ProcessRuntime, sender: Principal, name: str,
                      correlation: dict, data: dict | None = None, message_id: str | None = None,
                      ttl_seconds: int | None = None) -> Correlation:
    if not name or not name.strip():
        raise ValidationFailed("a message needs a name", [{"field": "name", "message": "must not be empty"}])
    correlation = jsonable(correlation or {})
    key = canonical_correlation(correlation)
    message_id = message_id or str(uuid.uuid4())
    message = session.scalar(
        dialect_insert(session, Message).values(message_id=message_id, name=name, correlation=correlation, correlation_key=key,
                               data=jsonable(data or {}), status="buffered", received_at=utcnow(),
                               expires_at=message_expiry(runtime, ttl_seconds), sender=sender.username)
        .on_conflict_do_nothing(index_elements=[Message.message_id]).returning(Message))
    if message is None:  # seen before (or arriving concurrently): the first one counts
        return Correlation(session.scalar(select(Message).where(Message.message_id == message_id)), duplicate=True)

    lock_correlation(session, name, key)
    candidates = session.execute(
        select(MessageSubscription, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
        .where(MessageSubscription.message_name == name, MessageSubscription.correlation_key == key)
        .order_by(MessageSubscription.instance_id)).all()
    running = [s for s, instance in candidates if instance.status == "running"]
    instance_ids = sorted({s.instance_id for s in running})
    if len(instance_ids) > 1:
        raise Conflict(f"message {name!r} matches {len(instance_ids)} waiting instances; make the correlation unique",
                       candidates=instance_ids)
    if not running:
        audit(session, None, "message_buffered", sender.username, message=name, message_id=message_id,
              correlation=correlation)
        return Correlation(message, duplicate=False)
    subscription = running[0]
    instance = session.get(ProcessInstance, subscription.instance_id)
    workflow, spec = load_workflow(session, runtime, instance)
    try:
        deliver(session, runtime, instance, workflow, subscription.task_id, subscription.spec_name, message,
                sender.username)
    except ProcessError as exc:
        raise ValidationFailed(f"the process cannot go on with this message: {exc}",
                               [{"field": "data", "message": str(exc)}]) from exc
    save_progress(session, runtime, instance, workflow, spec, sender.username)
    return Correlation(message, duplicate=False)


def expire_buffered_messages(session: Session) -> int:
    """Mark buffered messages whose time-to-live has ended; they are kept for the audit, not delivered."""
    result = session.execute(update(Message).where(Message.status == "buffered", Message.expires_at <= utcnow())
                             .values(status="expired"))
    return result.rowcount or 0
