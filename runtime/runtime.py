"""The process runtime's shared parts: engine, parsed specs per deployment, settings, operations."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.errors import Forbidden, KontorError, NotFound, SpecError
from kernel.principal import Principal
from runtime.engine import ProcessEngine, ProcessSpec, Shape
from runtime.models import Deployment, HumanTask, ProcessDefinition
from runtime.settings import RuntimeSettings
from runtime.workflow_cache import WorkflowCache


@dataclass(frozen=True)
class JobContext:
    """What a service operation learns about the job it runs: use job_key to make its effect idempotent."""
    job_id: int
    job_key: str
    instance_id: int
    attempt: int
    log: Any
    records: list[str] = field(default_factory=list)  # what the operation worked on, as `kind:label`

    def touched(self, kind: str, label: str) -> None:
        """Name a record the operation worked on (`offer`, `OFF-2026-0001`): the flow run that ran
        the job is tagged `offer:OFF-2026-0001`, so ops find it by the record."""
        tag = f"{kind}:{label}"
        if tag not in self.records:
            self.records.append(tag)


Operation = Callable[[dict[str, Any], JobContext], Any]


class OperationRegistry:
    """Named Python operations that service tasks call (`serviceTaskOperator id` in the BPMN)."""

    def __init__(self) -> None:
        self._operations: dict[str, Operation] = {}

    def register(self, name: str, operation: Operation) -> None:
        self._operations[name] = operation

    def get(self, name: str) -> Operation:
        try:
            return self._operations[name]
        except KeyError:
            raise LookupError(f"no operation named {name!r} is registered") from None

    def names(self) -> list[str]:
        return sorted(self._operations)


@dataclass(frozen=True)
class TaskRef:
    """What a guard's screen reads of a human task (the inbox reads no more of each)."""
    id: int
    instance_id: int
    spec_name: str
    candidate_groups: tuple[str, ...]


TaskGuard = Callable[..., None]
TaskCompletion = Callable[..., "dict[str, Any] | None"]
# screen(session, who, tasks) -> {task id: why the guard would refuse `who`}: the guard's answer for
# many tasks at once, with a fixed number of queries (the inbox asks it for every task it could list)
TaskScreen = Callable[[Session, Principal, Sequence[TaskRef]], dict[int, str]]


class TaskGuards:
    """Named checks of the domain that a human task names in its `guard` property, run in the same
    transaction before the task is claimed, delegated or completed: guard(session, who, task,
    variables, action, data) raises to refuse (e.g. nobody approves their own offer) and changes
    nothing. What a completion decides is the task's completion's to record (TaskCompletions)."""

    def __init__(self) -> None:
        self._guards: dict[str, TaskGuard] = {}
        self._screens: dict[str, TaskScreen] = {}

    def register(self, name: str, guard: TaskGuard, *, screen: TaskScreen | None = None) -> None:
        """screen: the same rules as the guard's that depend on the person (e.g. four eyes), for many
        tasks at once; the inbox leaves out (or marks) the tasks it refuses. A guard without one is
        asked only where the task is claimed, delegated or completed."""
        self._guards[name] = guard
        if screen is not None:
            self._screens[name] = screen
        else:
            self._screens.pop(name, None)

    @property
    def screened(self) -> frozenset[str]:
        """The guards that can screen many tasks at once."""
        return frozenset(self._screens)

    def screen(self, session: Session, who: Principal, tasks: Iterable[tuple[str | None, TaskRef]]) -> dict[int, str]:
        """{task id: why its guard refuses `who`} for (guard name, task) pairs; tasks whose guard does
        not screen are not judged."""
        by_guard: dict[str, list[TaskRef]] = {}
        for guard, task in tasks:
            if guard in self._screens:
                by_guard.setdefault(guard, []).append(task)
        refused: dict[int, str] = {}
        for name, group in by_guard.items():
            refused.update(self._screens[name](session, who, group))
        return refused

    def refusal(self, name: str | None, *args: Any) -> str | None:
        """Why the guard refuses (its message), or None when it lets the action pass."""
        try:
            self.check(name, *args)
        except KontorError as refused:  # Forbidden (e.g. four eyes), Conflict (the record moved on), ...
            return refused.message
        return None

    def check(self, name: str | None, *args: Any) -> None:
        if not name:
            return
        try:
            guard = self._guards[name]
        except KeyError:
            raise LookupError(f"no task guard named {name!r} is registered") from None
        if guard(*args) is not None:  # a guard that hands back data would be recording, not guarding
            raise TypeError(f"task guard {name!r} returned a value; a guard only checks")


class TaskCompletions:
    """Named handlers of the domain that record what completing a human task decides (e.g. the
    approval bound to the offer's content, the offer's new state), named by the task's `completion`
    property. complete_task runs one in the same transaction right after the task's guard passed and
    before the engine completes the task: completion(session, who, task, variables, data) may return
    data the completion carries into the process (e.g. the facts of a resubmitted offer). Claim and
    delegation never run it."""

    def __init__(self) -> None:
        self._completions: dict[str, TaskCompletion] = {}
        self._by_guard: dict[str, str] = {}

    def register(self, name: str, completion: TaskCompletion, *, formerly_in_guard: str | None = None) -> None:
        """formerly_in_guard: the guard that did this completion's work before completions existed.
        A task of a model deployed then names only its guard (no `completion` property at all); its
        instances still run this completion, so an approval given on an old version is recorded."""
        self._completions[name] = completion
        if formerly_in_guard:
            self._by_guard[formerly_in_guard] = name

    def name_for(self, completion: str | None, guard: str | None) -> str | None:
        """The completion a task runs: the one its model names (an empty name: none); a model that
        names none, the one that took over its guard's recording."""
        if completion is not None:
            return completion or None
        return self._by_guard.get(guard) if guard else None

    def run(self, name: str | None, *args: Any) -> dict[str, Any]:
        """Runs the completion; returns the data it adds to the completion (facts only the domain knows)."""
        if not name:
            return {}
        try:
            completion = self._completions[name]
        except KeyError:
            raise LookupError(f"no task completion named {name!r} is registered") from None
        return completion(*args) or {}


def _nobody(session: Session, username: str) -> Principal | None:
    return None


class ProcessRuntime:
    def __init__(self, settings: RuntimeSettings, engine: ProcessEngine | None = None,
                 operations: OperationRegistry | None = None):
        self.settings = settings
        self.engine = engine or ProcessEngine()
        self.operations = operations or OperationRegistry()
        self.guards = TaskGuards()
        self.completions = TaskCompletions()
        # process key -> view(session, who, task, variables) -> dict: what a person needs to decide the task
        self.task_views: dict[str, Callable[..., dict[str, Any] | None]] = {}
        # Processes and messages that only their business records start and send (an offer's approval,
        # a customer's answer): the generic start and message endpoints refuse them.
        self.domain_processes: set[str] = set()
        self.domain_messages: set[str] = set()
        # Who the active user of a name is (tasks are delegated to them): the users' module answers.
        self.people: Callable[[Session, str], Principal | None] = _nobody
        self.workflows = WorkflowCache(settings.workflow_cache_size)
        self._bundles: dict[int, dict[str, ProcessSpec]] = {}
        self._definitions: dict[int, tuple[int, str]] = {}  # definition id -> (deployment id, process key)
        self._latest: dict[str, tuple[int, int]] = {}  # process key -> (definition id, version)
        self._unreadable: set[int] = set()  # deployments whose stored files no longer parse
        self._lock = threading.Lock()

    def register_task_view(self, process_key: str, view: Callable[..., dict[str, Any] | None]) -> None:
        """What a person needs to decide the tasks of this process, shown beside them."""
        self.task_views[process_key] = view

    def reserve_for_records(self, processes: Iterable[str] = (), messages: Iterable[str] = ()) -> None:
        """Processes and messages that only their business records start and send: the generic
        start and message endpoints refuse them."""
        self.domain_processes.update(processes)
        self.domain_messages.update(messages)

    def look_up_people_with(self, lookup: Callable[[Session, str], Principal | None]) -> None:
        """How the runtime finds the active user of a name (a task is delegated to them)."""
        self.people = lookup

    def spec_for(self, session: Session, definition_id: int) -> tuple[ProcessDefinition, ProcessSpec]:
        definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"process definition {definition_id} not found")
        return definition, self._bundle(session, definition.deployment_id)[definition.process_key]

    def _bundle(self, session: Session, deployment_id: int) -> dict[str, ProcessSpec]:
        bundle = self._bundles.get(deployment_id)
        if bundle is None:  # deployed before (its files passed the checks of their day): read, not judged again
            deployment = session.get_one(Deployment, deployment_id)
            files = {name: text.encode() for name, text in deployment.files.items()}
            bundle = self.engine.parse_bundle(files, strict=False)
            with self._lock:
                self._bundles[deployment_id] = bundle
        return bundle

    def message_shape(self, session: Session, name: str) -> Shape | None:
        """The correlation properties that messages of this name are matched by, as the newest
        deployment whose processes catch the message says (None: Kontor's `correlation` values)."""
        for deployment_id in session.scalars(select(Deployment.id).order_by(Deployment.id.desc())).all():
            if deployment_id in self._unreadable:
                continue
            try:
                bundle = self._bundle(session, deployment_id)
            except SpecError:  # an old deployment this engine no longer reads says nothing about new messages
                self._unreadable.add(deployment_id)
                continue
            shapes = [process.messages[name] for process in bundle.values() if name in process.messages]
            if shapes:
                return shapes[0]  # (one per deployment: the deploy checks it)
            if any(name in process.starts for process in bundle.values()):
                return None  # only a message start event catches it: it needs no correlation
        return None

    def message_start(self, session: Session, name: str) -> str | None:
        """The process whose newest version a message of this name starts (its message start event)."""
        latest = session.execute(select(ProcessDefinition.process_key, ProcessDefinition.deployment_id)
                                 .where(ProcessDefinition.is_latest.is_(True))
                                 .order_by(ProcessDefinition.process_key)).all()
        for process_key, deployment_id in latest:
            if name in self._bundle(session, deployment_id)[process_key].starts:
                return str(process_key)
        return None

    def spec(self, session: Session, definition_id: int) -> ProcessSpec:
        """The parsed spec of a definition (definitions never change, so they are looked up once)."""
        known = self._definitions.get(definition_id)
        if known is not None and known[0] in self._bundles:
            return self._bundles[known[0]][known[1]]
        definition, spec = self.spec_for(session, definition_id)
        with self._lock:
            self._definitions[definition_id] = (definition.deployment_id, definition.process_key)
        return spec

    def latest_version(self, process_key: str, look_up: Callable[[], tuple[int, int]]) -> tuple[int, int]:
        """(definition id, version) of the process's newest version as `look_up` last found it.
        Another process may have deployed a newer one since: the start's insert checks that its
        version is still the newest, and the start looks again if not (forget_latest_versions)."""
        known = self._latest.get(process_key)
        if known is None:
            known = self._latest[process_key] = look_up()
        return known

    def forget_latest_versions(self) -> None:
        self._latest.clear()

    def require_open_to_clients(self, process_key: str | None = None, message_name: str | None = None) -> None:
        if process_key in self.domain_processes:
            raise Forbidden(f"process {process_key!r} is started by its business record, not directly")
        if message_name in self.domain_messages:
            raise Forbidden(f"message {message_name!r} comes only from its own channel (mail, the customer's link)")

    def task_context(self, session: Session, who: Principal, task: HumanTask,
                     variables: dict[str, Any], language: str = "de") -> dict[str, Any] | None:
        """What the task's process shows beside it; texts for people in `language` (de or en)."""
        view = self.task_views.get(task.process_key)
        return view(session, who, task, variables, language=language) if view is not None else None

    def remember_bundle(self, deployment_id: int, bundle: dict[str, ProcessSpec]) -> None:
        with self._lock:
            self._bundles[deployment_id] = bundle
