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
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kernel.clock import utcnow
from kernel.db import table_of
from kernel.driver_sql import DriverStatement
from kernel.errors import Conflict, ValidationFailed
from kernel.principal import Principal
from runtime.engine import ProcessError, canonical_correlation
from runtime.instances import start_on_message
from runtime.models import Message, MessageSubscription, ProcessInstance
from runtime.progress import audit, deliver, jsonable, load_workflow, message_expiry, save_progress
from runtime.runtime import ProcessRuntime
from runtime.store import attach, lock_correlation, pipelined

_SUBSCRIPTION, _INSTANCE, _MESSAGE = table_of(MessageSubscription), table_of(ProcessInstance), table_of(Message)
_INSERT_MESSAGE = {dialect: DriverStatement(module.insert(_MESSAGE)
                                            .on_conflict_do_nothing(index_elements=["message_id"])
                                            .returning(_MESSAGE.c.id))
                   for dialect, module in (("postgresql", postgresql), ("sqlite", sqlite))}
_WAITING_INSTANCES = DriverStatement(
    select(_SUBSCRIPTION.c.task_id, _SUBSCRIPTION.c.spec_name,
           *[column.label(f"instance_{column.key}") for column in _INSTANCE.columns])
    .join(_INSTANCE, _INSTANCE.c.id == _SUBSCRIPTION.c.instance_id)
    .where(_SUBSCRIPTION.c.message_name == bindparam("row_name"),
           _SUBSCRIPTION.c.correlation_key == bindparam("row_key"), _INSTANCE.c.status == "running")
    .order_by(_SUBSCRIPTION.c.instance_id).with_for_update())


@dataclass
class Correlation:
    message: Message
    duplicate: bool  # the message id was seen before: this is the first outcome, replayed


def correlate_message(session: Session, runtime: ProcessRuntime, sender: Principal, name: str,
                      correlation: dict[str, Any], data: dict[str, Any] | None = None, message_id: str | None = None,
                      ttl_seconds: int | None = None) -> Correlation:
    if not name or not name.strip():
        raise ValidationFailed("a message needs a name", [{"field": "name", "message": "must not be empty"}])
    correlation = jsonable(correlation or {})
    shape = runtime.message_shape(session, name)
    if shape is not None:  # correlated by the model's correlation properties (runtime.engine.conventions)
        try:
            correlation = jsonable(runtime.engine.message_correlation(shape, correlation, jsonable(data or {})))
        except ProcessError as exc:
            raise ValidationFailed(f"message {name!r} cannot be correlated: {exc}",
                                   [{"field": "correlation", "message": str(exc)}]) from exc
    key = canonical_correlation(correlation)
    message_id = message_id or str(uuid.uuid4())
    values = dict(message_id=message_id, name=name, correlation=correlation, correlation_key=key,
                  data=jsonable(data or {}), status="buffered", received_at=utcnow(),
                  expires_at=message_expiry(runtime, ttl_seconds), sender=sender.username,
                  delivered_at=None, instance_id=None)
    with pipelined(session) as connection:  # the three go to the database together
        inserted = _INSERT_MESSAGE[connection.dialect.name].execute(connection, values)
        lock_correlation(connection, name, key)
        # the waiting instances, their rows locked: one that moves on meanwhile drops out
        waiting = _WAITING_INSTANCES.execute(connection, {"row_name": name, "row_key": key})
    message_row = inserted.first()
    if message_row is None:  # seen before (or arriving concurrently): the first one counts
        first = session.execute(select(Message).where(Message.message_id == message_id)).scalar_one()
        return Correlation(first, duplicate=True)
    message = attach(session, {**values, "id": message_row["id"]}, Message)
    candidates = waiting.rows
    instance_ids = sorted({row["instance_id"] for row in candidates})
    if len(instance_ids) > 1:
        raise Conflict(f"message {name!r} matches {len(instance_ids)} waiting instances; make the correlation unique",
                       candidates=instance_ids)
    if not candidates:
        starts = runtime.message_start(session, name)
        if starts is not None and starts not in runtime.domain_processes \
                and name not in runtime.domain_messages:  # a message start event: a new instance
            start_on_message(session, runtime, sender, starts, message)
            return Correlation(message, duplicate=False)
        audit(session, None, "message_buffered", sender.username, message=name, message_id=message_id,
              correlation=correlation)
        return Correlation(message, duplicate=False)
    chosen = candidates[0]
    instance = attach(session, {column.key: chosen[f"instance_{column.key}"] for column in _INSTANCE.columns})
    workflow, spec = load_workflow(session, runtime, instance)
    try:
        event, write = deliver(session, runtime, instance, workflow, chosen["task_id"], chosen["spec_name"], message,
                               sender.username)
    except ProcessError as exc:
        raise ValidationFailed(f"the process cannot go on with this message: {exc}",
                               [{"field": "data", "message": str(exc)}]) from exc
    save_progress(session, runtime, instance, workflow, spec, sender.username, events=[event], writes=[write])
    return Correlation(message, duplicate=False)


def expire_buffered_messages(session: Session) -> int:
    """Mark buffered messages whose time-to-live has ended; they are kept for the audit, not delivered."""
    # (an UPDATE's result is a CursorResult: the row count)
    result = cast(CursorResult[Any], session.execute(
        update(Message).where(Message.status == "buffered", Message.expires_at <= utcnow()).values(status="expired")))
    return result.rowcount or 0
