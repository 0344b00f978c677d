"""Request and response bodies of the runtime API."""
from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from domain.fields import JsonObject, Strict, Text, UtcDatetime  # noqa: F401 - the field types of the request bodies
from kernel.errors import ValidationFailed

T = TypeVar("T")
def patch_changes(body: BaseModel, not_null: set[str]) -> dict:
    """The fields a PATCH sent; null for a field that must keep a value is a 422 naming each."""
    changes = body.model_dump(exclude_unset=True)
    nulls = sorted(name for name, value in changes.items() if value is None and name in not_null)
    if nulls:
        raise ValidationFailed("these fields cannot be emptied", [{"field": n, "message": "must not be null"}
                                                                   for n in nulls])
    return changes


def not_nullable(names: set[str]):
    """The schema of a PATCH body whose `names` may be left out but not emptied (sent as null)."""
    def drop_null(schema: dict) -> None:
        for name in names:
            field = schema["properties"].get(name)
            if field is None or "anyOf" not in field:
                continue
            field.pop("default", None)
            options = [option for option in field.pop("anyOf") if option.get("type") != "null"]
            field.update(options[0] if len(options) == 1 else {"anyOf": options})
    return drop_null


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def shown(schema: type[BaseModel], row, hidden: frozenset[str] = frozenset()) -> BaseModel:
    """`row` as `schema`, with the fields the caller may not see (domain access rules) left empty."""
    out = schema.model_validate(row)
    return out.model_copy(update=dict.fromkeys(hidden)) if hidden else out


def page_out(schema: type[BaseModel], found: tuple[list, int], page, hidden: frozenset[str] = frozenset()) -> Page:
    """A Page of `schema` from a domain query's (rows, total) and the PageRequest it answered."""
    rows, total = found
    return Page(items=[shown(schema, r, hidden) for r in rows], total=total, limit=page.limit, offset=page.offset)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    password_change_required: bool = Field(False, description="the password is a one-time password: until it is "
                                                               "changed (POST /me/password) the token serves only "
                                                               "/me")


class DefinitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    process_key: str
    name: str
    version: int
    version_hash: str
    source_file: str
    deployed_at: datetime
    is_latest: bool


class StartInstance(Strict):
    process: Text = Field(min_length=1, max_length=200)
    business_key: Text | None = Field(default=None, min_length=1, max_length=200)
    data: JsonObject = Field(default_factory=dict)


class InstanceOut(BaseModel):
    id: int
    process: str
    version: int
    business_key: str | None
    status: str
    started_by: str | None
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    lock_version: int


class TaskOut(BaseModel):
    id: int
    instance_id: int
    process: str
    name: str
    title: str
    lane: str | None
    candidate_groups: list[str]
    assignee: str | None
    state: str
    priority: int
    due_at: datetime | None
    follow_up_at: datetime | None
    created_at: datetime
    ended_at: datetime | None
    completed_by: str | None
    can_complete: bool = Field(description="whether you may complete it now (claiming it first if need be)")
    blocked_reason: str | None = Field(description="why not: closed, claimed by another, not a candidate, or "
                                                   "its guard refuses you (e.g. four eyes)")


class TaskDetail(TaskOut):
    documentation: str | None
    form_schema: dict | None
    ui_schema: dict | None
    instance_status: str
    instance_lock_version: int
    context: dict | None = Field(None, description="What the task's process shows to decide it, e.g. the offer "
                                                   "to approve with its lines, margin and the rule that asks")


class WaitingMessageOut(BaseModel):
    name: str
    element: str
    correlation: dict


class TimerOut(BaseModel):
    element: str
    kind: str
    due_at: datetime


class JobOut(BaseModel):
    id: int
    element: str
    operation: str
    state: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    last_error: str | None


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    actor: str
    at: datetime
    task_spec: str | None
    details: dict


class InstanceDetail(InstanceOut):
    tasks: list[TaskOut]
    messages: list[WaitingMessageOut]
    timers: list[TimerOut]
    jobs: list[JobOut]
    variables: dict | None = Field(description="null when the caller may not see this instance's variables")
    audit: list[AuditOut]


class CancelInstance(Strict):
    reason: Text | None = Field(default=None, max_length=1000)


class CompleteTask(Strict):
    data: JsonObject = Field(default_factory=dict)


class DelegateTask(Strict):
    assignee: Text = Field(min_length=1, max_length=100)


class MessageIn(Strict):
    name: Text = Field(min_length=1, max_length=200)
    correlation: JsonObject = Field(default_factory=dict)
    message_id: Text | None = Field(default=None, min_length=1, max_length=300)
    data: JsonObject = Field(default_factory=dict)
    ttl_seconds: int | None = Field(default=None, ge=0, le=366 * 24 * 3600)


class MessageOut(BaseModel):
    message_id: str
    name: str
    status: str
    instance_id: int | None
    duplicate: bool
    expires_at: datetime


class ScheduledTimerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    instance_id: int
    spec_name: str
    kind: str
    due_at: datetime


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    queue: str = Field(description="the queue the dead item belongs to: service_jobs, outbox …")
    item_id: int = Field(description="the item's id in its queue (a job's id, a mail's id …)")
    job_id: int | None = Field(description="for service jobs: the job")
    instance_id: int | None = Field(description="for service jobs: the process instance")
    operation: str = Field(description="what the item was to do")
    error: str
    attempts: int
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
