"""Fire due timers. Each timer is claimed in its own transaction (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite serializes writers), so two workers racing fire it once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kernel.principal import SYSTEM, Principal
from kernel.db import transaction
from kernel.clock import utcnow
from kernel.errors import Conflict, NotFound
from runtime.models import ProcessInstance, Timer
from runtime.moments import to_utc
from runtime.progress import audit, audit_event, load_workflow, require_running, save_progress
from runtime.store import lock_instance
from runtime.runtime import ProcessRuntime


@dataclass
class FiredTimer:
    timer_id: int
    instance_id: int
    spec_name: str
    due_at: datetime
    fired_at: datetime

    @property
    def lag_seconds(self) -> float:
        return (self.fired_at - self.due_at).total_seconds()


def due_timer_ids(session: Session, limit: int, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(session.scalars(
        select(Timer.id).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.due_at <= now, ProcessInstance.status == "running")
        .order_by(Timer.due_at).limit(limit)))


def next_due_at(session: Session) -> datetime | None:
    return session.scalar(select(Timer.due_at).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                          .where(ProcessInstance.status == "running").order_by(Timer.due_at).limit(1))


def fire_timer(session: Session, runtime: ProcessRuntime, timer_id: int) -> FiredTimer | None:
    """Fire one timer (and whatever else of its instance is due). None: another worker had it."""
    timer = session.scalar(select(Timer).where(Timer.id == timer_id).with_for_update(skip_locked=True))
    if timer is None:
        return None
    instance = lock_instance(session, timer.instance_id, skip_locked=True)
    if instance is None or instance.status != "running":
        return None
    fired = FiredTimer(timer.id, instance.id, timer.spec_name, timer.due_at, utcnow())
    workflow, spec = load_workflow(session, runtime, instance)
    runtime.engine.fire_timers(workflow)
    save_progress(session, runtime, instance, workflow, spec, SYSTEM.username, events=[
        audit_event(instance.id, "timer_fired", SYSTEM.username, timer.spec_name,
                    due_at=timer.due_at.isoformat(), lag_seconds=round(fired.lag_seconds, 3))])
    return fired


def fire_due_timers(factory: sessionmaker, runtime: ProcessRuntime, limit: int = 100,
                    on_error=None) -> list[FiredTimer]:
    """Fire each due timer in its own transaction; one that fails (a script error after it, a lost
    race) stays due and is tried again on the next round, without stopping the others."""
    with transaction(factory) as session:
        ids = due_timer_ids(session, limit)
    fired = []
    for timer_id in ids:
        try:
            with transaction(factory) as session:
                result = fire_timer(session, runtime, timer_id)
        except Exception as exc:  # noqa: BLE001 - reported, and the timer stays due
            if on_error is None:
                raise
            on_error(timer_id, exc)
            continue
        if result is not None:
            fired.append(result)
    return fired


def timers_of(session: Session, instance_id: int | None, limit: int, offset: int) -> tuple[list[Timer], int]:
    from sqlalchemy import func

    query = select(Timer)
    if instance_id is not None:
        query = query.where(Timer.instance_id == instance_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    return list(session.scalars(query.order_by(Timer.due_at, Timer.id).limit(limit).offset(offset))), total


def reschedule_timer(session: Session, runtime: ProcessRuntime, who: Principal, timer_id: int,
                     due_at: datetime) -> Timer:
    """Ops move a waiting timer (Camunda's "set job due date"): e.g. send a reminder now, or give an
    approver more time. The process fires it at the new moment like any other timer."""
    timer = session.scalar(select(Timer).where(Timer.id == timer_id).with_for_update())
    if timer is None:
        raise NotFound(f"timer {timer_id} not found")
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == timer.instance_id)
                              .with_for_update())
    require_running(instance)
    workflow, spec = load_workflow(session, runtime, instance)
    try:
        runtime.engine.reschedule_timer(workflow, timer.task_id, due_at)
    except KeyError:
        raise Conflict(f"timer {timer_id} is a cycle or no longer waits; only duration and date timers move") from None
    audit(session, instance.id, "timer_rescheduled", who.username, timer.spec_name,
          previous_due_at=timer.due_at.isoformat(), due_at=to_utc(due_at).isoformat())
    save_progress(session, runtime, instance, workflow, spec, who.username)
    session.refresh(timer)
    return timer
