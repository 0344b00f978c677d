"""Tables of the process runtime: deployed definitions, instances and the index of what waits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base, JSONObject


class Deployment(Base):
    """The files of one deployment (all .bpmn/.dmn/.json of the configured folders), stored once per content."""
    __tablename__ = "deployment"
    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[JSONObject]
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_key", "version_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[int]
    version_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(500))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_latest: Mapped[bool] = mapped_column(default=True)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (UniqueConstraint("process_key", "business_key"),
                      Index("ix_instance_status_started", "status", "started_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    business_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|suspended|completed|cancelled
    state: Mapped[str] = mapped_column(Text)
    variables: Mapped[JSONObject] = mapped_column(default=dict)
    started_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    __tablename__ = "human_task"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),
                      Index("ix_human_task_state_assignee", "state", "assignee"),
                      Index("ix_human_task_state_due", "state", "due_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    process_key: Mapped[str] = mapped_column(String(200))
    spec_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[str]] = mapped_column(default=list)
    # users the process itself names as candidates (its `assignee`): they may work the task without
    # being in a candidate group; claiming or delegating makes nobody a candidate
    candidate_users: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    assignee: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open|completed|cancelled
    form_schema: Mapped[JSONObject | None]
    ui_schema: Mapped[JSONObject | None]
    documentation: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(default=50)
    due_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    guard: Mapped[str | None] = mapped_column(String(200))  # checked by the domain before claim and complete


class HumanTaskGroup(Base):
    """One row per candidate group of an open task, so 'my groups' is an indexed join."""
    __tablename__ = "human_task_group"
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class MessageSubscription(Base):
    __tablename__ = "message_subscription"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),
                      Index("ix_subscription_match", "message_name", "correlation_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    spec_name: Mapped[str] = mapped_column(String(200))
    message_name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """Every message received, once per message id: buffered until a subscriber appears, then delivered."""
    __tablename__ = "message"
    __table_args__ = (Index("ix_message_buffer", "status", "name", "correlation_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    correlation: Mapped[JSONObject]
    correlation_key: Mapped[str] = mapped_column(String(1000))
    data: Mapped[JSONObject] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20))  # buffered|delivered|expired
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    sender: Mapped[str | None] = mapped_column(String(100))


class Timer(Base):
    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    spec_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime] = mapped_column(index=True)


class QueueItem:
    """The columns every durable queue's table has (runtime.queue): attempts so far, when the next
    one is due, the lease and the worker incarnation holding the claim (runtime.workers), and the
    last error. Each table names its own states (runtime.queue.States), since ops and the API
    already know them by those names."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # the worker incarnation (runtime.workers)
    last_error: Mapped[str | None] = mapped_column(Text)


class ServiceJob(QueueItem, Base):
    __tablename__ = "service_job"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),
                      Index("ix_service_job_ready", "state", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    spec_name: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(200))
    params: Mapped[JSONObject] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20), default="ready")  # ready|running|done|incident|cancelled
    max_attempts: Mapped[int]
    backoff_base: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Incident(Base):
    """A dead letter of any queue (runtime.queue): the item that ran out of attempts (`queue`,
    `item_id`), what it was, its last error; resolved when ops run it again. A service job's
    incident also names its job and instance (and goes with them)."""
    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_item", "queue", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(40), default="service_jobs")
    item_id: Mapped[int]
    job_id: Mapped[int | None] = mapped_column(ForeignKey("service_job.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                                    index=True)
    operation: Mapped[str] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class AuditEvent(Base):
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    task_spec: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[JSONObject] = mapped_column(default=dict)
