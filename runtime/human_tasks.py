"""The task list: who may see and work a human task, claim/unclaim/delegate/complete, and the inbox query."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from kernel.clock import utcnow
from kernel.db import table_of
from kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kernel.principal import Principal
from runtime.clients import require_data_fits
from runtime.engine import ProcessError
from runtime.models import HumanTask, HumanTaskGroup, ProcessInstance
from runtime.progress import audit, audit_event, jsonable, load_workflow, require_running, save_progress, settled
from runtime.runtime import ProcessRuntime, TaskGuards, TaskRef

SUPERVISORS = ("ops", "admin")


def is_candidate(task: HumanTask, who: Principal) -> bool:
    """Whether the model lets this user work the task: a member of one of its candidate groups, or
    a user it names itself (its `assignee`). Claiming or delegating makes nobody a candidate, and
    portal users never are one."""
    return _candidate(task.candidate_groups, task.candidate_users, who)


def _candidate(groups: list[str] | None, users: list[str] | None, who: Principal) -> bool:
    if who.is_portal:
        return False
    return bool(set(groups or []) & who.groups) or who.username in (users or [])


def may_see(task: HumanTask, who: Principal) -> bool:
    if who.is_portal:
        return False
    return (who.has_any(*SUPERVISORS) or task.assignee == who.username or task.completed_by == who.username
            or is_candidate(task, who))


def may_hold(task: HumanTask, who: Principal) -> bool:
    """Whether the task may be this user's at all: a candidate, or an admin (portal users never)."""
    return is_candidate(task, who) or ("admin" in who.groups and not who.is_portal)


def may_work(task: HumanTask, who: Principal) -> bool:
    """Who may hold the task, checked whenever it is claimed or completed; once claimed, only by its
    assignee."""
    return may_hold(task, who) and task.assignee in (None, who.username)


def get_task(session: Session, task_id: int, who: Principal, for_update: bool = False) -> HumanTask:
    query = select(HumanTask).where(HumanTask.id == task_id)
    if for_update:
        query = query.with_for_update()
    task = session.scalar(query)
    if task is None or not may_see(task, who):
        raise NotFound(f"task {task_id} not found")
    return task


def _open_task(session: Session, task_id: int, who: Principal) -> HumanTask:
    task = get_task(session, task_id, who, for_update=True)
    if task.state != "open":
        raise Conflict(f"task {task_id} is {task.state}", task_state=task.state)
    return task


def claim_task(session: Session, runtime: ProcessRuntime, task_id: int, who: Principal) -> HumanTask:
    task = _open_task(session, task_id, who)
    if task.assignee is not None and task.assignee != who.username:
        raise Conflict(f"task {task_id} is claimed by {task.assignee}", assignee=task.assignee)
    if not may_work(task, who):
        raise Forbidden("you are in none of this task's candidate groups")
    if task.assignee == who.username:
        return task
    instance = session.get_one(ProcessInstance, task.instance_id)  # (a foreign key)
    runtime.guards.check(task.guard, session, who, task, instance.variables or {}, "claim", None)
    task.assignee = who.username
    audit(session, task.instance_id, "task_claimed", who.username, task.spec_name, task=task.id)
    return task


def unclaim_task(session: Session, task_id: int, who: Principal) -> HumanTask:
    task = _open_task(session, task_id, who)
    if task.assignee is None:
        return task
    if task.assignee != who.username and not who.has_any(*SUPERVISORS):
        raise Forbidden("only the assignee or ops can give a claimed task back")
    audit(session, task.instance_id, "task_unclaimed", who.username, task.spec_name, task=task.id,
          previous_assignee=task.assignee)
    task.assignee = None
    return task


def delegate_task(session: Session, runtime: ProcessRuntime, task_id: int, who: Principal,
                  to_username: str) -> HumanTask:
    """Hand the task to another user who may work it: an active member of staff who is one of its
    candidates (or an admin) and whom the task's guard would let claim it (e.g. not the offer's own
    author under four eyes). The guard is asked again when the delegate completes."""
    task = _open_task(session, task_id, who)
    if task.assignee != who.username and not who.has_any(*SUPERVISORS):
        raise Forbidden("only the assignee or ops can delegate a task")
    delegate = runtime.people(session, to_username)
    if delegate is None or not may_hold(task, delegate):  # one answer: whether the user exists is not told
        raise ValidationFailed("the task cannot go to this user", [{"field": "assignee", "message": (
            f"{to_username} is no active user of the task's candidate groups "
            f"({', '.join(task.candidate_groups or [])})")}])
    instance = session.get_one(ProcessInstance, task.instance_id)  # (a foreign key)
    try:
        runtime.guards.check(task.guard, session, delegate, task, instance.variables or {}, "claim", None)
    except Forbidden as refused:
        raise ValidationFailed("the task cannot go to this user",
                               [{"field": "assignee", "message": str(refused)}]) from None
    audit(session, task.instance_id, "task_delegated", who.username, task.spec_name, task=task.id,
          previous_assignee=task.assignee, assignee=to_username)
    task.assignee = to_username
    return task


def validate_form(schema: dict[str, Any] | None, data: dict[str, Any]) -> None:
    if not schema:
        return
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        details = []
        for error in errors:
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else ""
                path = ".".join(p for p in (path, missing) if p)
            details.append({"field": path or "(form)", "message": error.message})
        raise ValidationFailed("the submitted form data is not valid", details)


def complete_task(session: Session, runtime: ProcessRuntime, task_id: int, who: Principal, data: dict[str, Any],
                  expected_version: int | None = None) -> ProcessInstance:
    """Validate the form data, ask the task's guard, let its completion record what the task decides,
    complete the task and run the process on to its next wait, all in the caller's transaction (a
    refusal anywhere leaves nothing recorded). Two completions of one task: the second gets Conflict
    (also via the instance's version)."""
    task = _open_task(session, task_id, who)
    if not may_work(task, who):
        raise Forbidden(f"task is claimed by {task.assignee}" if task.assignee not in (None, who.username)
                        else "you are in none of this task's candidate groups")
    require_data_fits(runtime, data)
    validate_form(task.form_schema, data)
    instance = session.get_one(ProcessInstance, task.instance_id)  # (a foreign key)
    require_running(instance)
    if expected_version is not None and expected_version != instance.version:
        raise Conflict(f"the instance changed meanwhile (version {instance.version}, expected {expected_version})")
    variables = instance.variables or {}
    runtime.guards.check(task.guard, session, who, task, variables, "complete", data)  # may refuse
    workflow, spec = load_workflow(session, runtime, instance)
    try:
        named = runtime.engine.human_task_property(workflow, task.task_id, "completion")
    except KeyError:
        raise Conflict(f"task {task_id} is no longer waiting") from None
    # the completion records what the task decides and may add facts only the domain knows
    completion = runtime.completions.name_for(named, task.guard)
    data = {**data, **runtime.completions.run(completion, session, who, task, variables, data)}
    try:
        runtime.engine.complete_human_task(workflow, task.task_id, jsonable(data))
    except KeyError:
        raise Conflict(f"task {task_id} is no longer waiting") from None
    except ProcessError as exc:
        raise ValidationFailed(f"the process cannot go on with this data: {exc}",
                               [{"field": "data", "message": str(exc)}]) from exc
    task.state = "completed"
    task.completed_by = who.username
    task.ended_at = utcnow()
    session.execute(table_of(HumanTaskGroup).delete().where(HumanTaskGroup.human_task_id == task.id))
    settled(session, instance.id, task.task_id)
    try:
        save_progress(session, runtime, instance, workflow, spec, who.username, events=[
            audit_event(instance.id, "task_completed", who.username, task.spec_name, task=task.id, data=data)])
    except ProcessError as exc:  # e.g. the next task's due date expression does not give a date
        raise ValidationFailed(f"the process cannot go on with this data: {exc}",
                               [{"field": "data", "message": str(exc)}]) from exc
    return instance


def blocked_reason(task: HumanTask, who: Principal, refusal: str | None) -> str | None:
    """Why `who` cannot complete the task now (None: they can, after claiming it if need be): the
    task is closed, someone else holds it, they are none of its candidates, or its guard refuses
    them (`refusal`, e.g. four eyes)."""
    if task.state != "open":
        return f"the task is {task.state}"
    if task.assignee not in (None, who.username):
        return f"the task is claimed by {task.assignee}"
    if not may_hold(task, who):
        return "you are in none of this task's candidate groups"
    return refusal


def blocked_reasons(session: Session, guards: TaskGuards, who: Principal,
                    tasks: list[HumanTask]) -> dict[int, str | None]:
    """Why `who` cannot complete each of these tasks (None: they can), the guards judging the open
    ones all at once."""
    refusals = _screen(session, guards, who, None, [t for t in tasks if t.state == "open"])
    return {t.id: blocked_reason(t, who, refusals.get(t.id)) for t in tasks}


@dataclass
class InboxFilter:
    scope: str = "all"  # mine | groups | all (all = mine + my groups; ops see every open task)
    process: str | None = None
    state: str = "open"
    priority_min: int | None = None
    due_before: datetime | None = None
    follow_up_before: datetime | None = None
    instance_id: int | None = None
    sort: str = "-priority"
    limit: int = 50
    offset: int = 0
    blocked: bool = False  # also the tasks a guard refuses the caller (e.g. four eyes), marked; else left out


@dataclass
class InboxPage:
    rows: list[HumanTask]
    total: int
    refusals: dict[int, str]  # task id -> why its guard refuses the caller (listed tasks its guard judged)


SORTABLE = {"priority": HumanTask.priority, "due_at": HumanTask.due_at, "created_at": HumanTask.created_at,
            "follow_up_at": HumanTask.follow_up_at, "id": HumanTask.id}


def inbox(session: Session, who: Principal, f: InboxFilter, guards: TaskGuards | None = None) -> InboxPage:
    """The tasks the caller works (ops: every task), filtered, sorted and paged. With the guards, a
    task whose guard would refuse the caller, though they are one of its candidates (e.g. the
    approval of an offer they wrote), is left out, unless `f.blocked` asks for it; every listed task
    that a guard judged carries the guard's reason. The guards judge all tasks at once (a few
    queries for the whole list, however long)."""
    if who.is_portal:  # portal users work no tasks of Kontor's staff
        return InboxPage([], 0, {})
    query = select(HumanTask).where(HumanTask.state == f.state)
    in_my_groups = exists().where(HumanTaskGroup.human_task_id == HumanTask.id,
                                  HumanTaskGroup.group_name.in_(sorted(who.groups) or [""]))
    mine = HumanTask.assignee == who.username
    if f.scope == "mine":
        query = query.where(mine)
    elif f.scope == "groups":
        query = query.where(and_(HumanTask.assignee.is_(None), in_my_groups))
    elif not who.has_any(*SUPERVISORS):
        visible = or_(mine, in_my_groups, HumanTask.completed_by == who.username) if f.state != "open" \
            else or_(mine, and_(HumanTask.assignee.is_(None), in_my_groups))
        query = query.where(visible)
    if f.process:
        query = query.where(HumanTask.process_key == f.process)
    if f.priority_min is not None:
        query = query.where(HumanTask.priority >= f.priority_min)
    if f.due_before is not None:
        query = query.where(HumanTask.due_at < f.due_before)
    if f.follow_up_before is not None:
        query = query.where(HumanTask.follow_up_at < f.follow_up_before)
    if f.instance_id is not None:
        query = query.where(HumanTask.instance_id == f.instance_id)
    refusals: dict[int, str] = {}
    screening = guards is not None and bool(guards.screened) and f.state == "open"
    if screening and not f.blocked:  # left out: what the caller could work but for the guard
        assert guards is not None
        workable = or_(mine, and_(HumanTask.assignee.is_(None), in_my_groups))
        refusals = _screen(session, guards, who, query.where(workable))
        if refusals:
            query = query.where(HumanTask.id.not_in(sorted(refusals)))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    column = SORTABLE[f.sort.lstrip("-")]
    order = column.desc() if f.sort.startswith("-") else column.asc()
    rows = list(session.scalars(query.order_by(order, HumanTask.id).limit(f.limit).offset(f.offset)).all())
    if screening and rows:  # the page's own marks (those left out are not on it)
        assert guards is not None
        refusals = _screen(session, guards, who, None, rows)
    return InboxPage(rows, total, refusals)


def _screen(session: Session, guards: TaskGuards, who: Principal, query: Select[HumanTask] | None,
            rows: list[HumanTask] | None = None) -> dict[int, str]:
    """What the screening guards refuse the caller among the tasks of the query (read as a few
    columns, not as tasks) or among the given rows."""
    if rows is not None:
        pairs = [(t.guard, TaskRef(t.id, t.instance_id, t.spec_name, tuple(t.candidate_groups or [])))
                 for t in rows]
    else:
        assert query is not None
        columns = query.with_only_columns(HumanTask.id, HumanTask.instance_id, HumanTask.spec_name,
                                          HumanTask.guard, HumanTask.candidate_groups)
        found = session.execute(columns.where(HumanTask.guard.in_(sorted(guards.screened)))).all()
        pairs = [(guard, TaskRef(task_id, instance_id, spec_name, tuple(groups or [])))
                 for task_id, instance_id, spec_name, guard, groups in found]
    return guards.screen(session, who, pairs)
