from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ReaderLanguage, RuntimeDep, SessionDep
from api.params import DateTimeFilter, Limit, Offset, OptionalId, Priority, RecordId
from api.schemas import CompleteTask, DelegateTask, Page, TaskDetail, TaskOut
from runtime import human_tasks as handlers
from runtime.models import ProcessInstance

router = APIRouter(prefix="/tasks", tags=["tasks"])


def task_out(task, blocked_reason: str | None) -> TaskOut:
    return TaskOut(id=task.id, instance_id=task.instance_id, process=task.process_key, name=task.spec_name,
                   title=task.title, lane=task.lane, candidate_groups=task.candidate_groups or [],
                   assignee=task.assignee, state=task.state, priority=task.priority, due_at=task.due_at,
                   follow_up_at=task.follow_up_at, created_at=task.created_at, ended_at=task.ended_at,
                   completed_by=task.completed_by, can_complete=blocked_reason is None,
                   blocked_reason=blocked_reason)


def marked_tasks(session, runtime, user, tasks) -> list[TaskOut]:
    """Tasks as the caller sees them listed, each marked whether they may complete it (the guards
    judge them all at once)."""
    reasons = handlers.blocked_reasons(session, runtime.guards, user, tasks)
    return [task_out(t, reasons[t.id]) for t in tasks]


def _detail(session, task, runtime, user, with_context: bool = False, language: str = "de") -> TaskDetail:
    """The task with its form; with_context (GET): what its process shows to decide it (its `shown`
    texts in `language`), and whether the caller may complete it as its guard itself answers. After
    an action the guard is not asked again: its screen marks the task (what depends on the person,
    e.g. four eyes)."""
    instance = session.get(ProcessInstance, task.instance_id)
    variables = instance.variables or {}
    context = runtime.task_context(session, user, task, variables, language) if with_context else None
    if with_context:
        refusal = runtime.guards.refusal(task.guard, session, user, task, variables, "claim", None) \
            if task.state == "open" and handlers.may_hold(task, user) else None
        out = task_out(task, handlers.blocked_reason(task, user, refusal))
    else:
        [out] = marked_tasks(session, runtime, user, [task])
    return TaskDetail(**out.model_dump(),
                      documentation=task.documentation, form_schema=task.form_schema,
                      ui_schema=task.ui_schema, instance_status=instance.status,
                      instance_lock_version=instance.version, context=context)


@router.get("", response_model=Page[TaskOut], summary="The inbox: my tasks and my groups' unclaimed tasks")
def inbox(session: SessionDep, runtime: RuntimeDep, user: CurrentUser,
          scope: Literal["all", "mine", "groups"] = "all",
          state: Literal["open", "completed", "cancelled"] = "open",
          process: str | None = None, priority_min: Priority = None,
          due_before: DateTimeFilter = None, follow_up_before: DateTimeFilter = None,
          instance_id: OptionalId = None,
          sort: Literal["priority", "-priority", "due_at", "-due_at", "created_at", "-created_at",
                        "follow_up_at", "-follow_up_at"] = "-priority",
          limit: Limit = 50, offset: Offset = 0,
          include: Annotated[Literal["blocked"] | None, Query(
              description="`blocked`: also the tasks you are a candidate for but may not complete because "
                          "the task's guard refuses you (e.g. four eyes on an offer you wrote), marked "
                          "`can_complete: false` with `blocked_reason`; left out by default")] = None):
    f = handlers.InboxFilter(scope=scope, process=process, state=state, priority_min=priority_min,
                             due_before=due_before, follow_up_before=follow_up_before, instance_id=instance_id,
                             sort=sort, limit=limit, offset=offset, blocked=include == "blocked")
    found = handlers.inbox(session, user, f, runtime.guards)
    return Page(items=[task_out(t, handlers.blocked_reason(t, user, found.refusals.get(t.id))) for t in found.rows],
                total=found.total, limit=limit, offset=offset)


@router.get("/{task_id}", response_model=TaskDetail,
            summary="A task with its form (JSON Schema) and what its process shows to decide it (context)")
def get(task_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser, lang: ReaderLanguage):
    """The context's `shown` texts (amounts, quantities with units) follow Accept-Language (de or en)."""
    return _detail(session, handlers.get_task(session, task_id, user), runtime, user, with_context=True,
                   language=lang)


@router.post("/{task_id}/claim", response_model=TaskDetail)
def claim(task_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser):
    return _detail(session, handlers.claim_task(session, runtime, task_id, user), runtime, user)


@router.post("/{task_id}/unclaim", response_model=TaskDetail)
def unclaim(task_id: RecordId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser):
    return _detail(session, handlers.unclaim_task(session, task_id, user), runtime, user)


@router.post("/{task_id}/delegate", response_model=TaskDetail)
def delegate(task_id: RecordId, body: DelegateTask, session: SessionDep, runtime: RuntimeDep, user: CurrentUser):
    return _detail(session, handlers.delegate_task(session, runtime, task_id, user, body.assignee), runtime, user)


@router.post("/{task_id}/complete", response_model=TaskDetail,
             summary="Submit the form; 422 lists each bad field, 409 if someone else was faster")
def complete(task_id: RecordId, body: CompleteTask, session: SessionDep, runtime: RuntimeDep, user: CurrentUser):
    handlers.complete_task(session, runtime, task_id, user, body.data)
    session.flush()
    return _detail(session, handlers.get_task(session, task_id, user), runtime, user)
