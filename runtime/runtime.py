"""The process runtime's shared parts: engine, parsed specs per deployment, settings, operations."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.orm import Session

from runtime.engine import ProcessEngine, ProcessSpec
from kernel.errors import Forbidden, NotFound
from kernel.principal import Principal
from runtime.models import Deployment, ProcessDefinition
from runtime.workflow_cache import WorkflowCache


@dataclass(frozen=True)
class JobContext:
    """What a service operation learns about the job it runs: use job_key to make its effect idempotent."""
    job_id: int
    job_key: str
    instance_id: int
    attempt: int
    log: Any


Operation = Callable[[dict, JobContext], Any]


class OperationRegistry:
    """Named Python operations that service tasks call (`serviceTaskOperator id` in the BPMN)."""

    def __init__(self):
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


TaskGuard = Callable[..., None]


class TaskGuards:
    """Named checks of the domain that a human task names in its `guard` property, run in the same
    transaction before the task is claimed or completed: guard(session, who, task, variables, action,
    data) raises to refuse (e.g. nobody approves their own offer), may record what the completion
    decides (e.g. the approval bound to the offer's content) and may return data the completion
    carries into the process (e.g. the facts of a resubmitted offer)."""

    def __init__(self):
        self._guards: dict[str, TaskGuard] = {}

    def register(self, name: str, guard: TaskGuard) -> None:
        self._guards[name] = guard

    def check(self, name: str | None, *args) -> dict:
        """Runs the guard; returns the data it adds to the completion (facts only the domain knows)."""
        if not name:
            return {}
        try:
            guard = self._guards[name]
        except KeyError:
            raise LookupError(f"no task guard named {name!r} is registered") from None
        return guard(*args) or {}


def _nobody(session: Session, username: str) -> Principal | None:
    return None


class ProcessRuntime:
    def __init__(self, settings, engine: ProcessEngine | None = None, operations: OperationRegistry | None = None):
        self.settings = settings
        self.engine = engine or ProcessEngine()
        self.operations = operations or OperationRegistry()
        self.guards = TaskGuards()
        # process key -> view(session, who, task, variables) -> dict: what a person needs to decide the task
        self.task_views: dict[str, Callable[..., dict | None]] = {}
        # Processes and messages that only their business records start and send (an offer's approval,
        # a customer's answer): the generic start and message endpoints refuse them.
        self.domain_processes: set[str] = set()
        self.domain_messages: set[str] = set()
        # Who the active user of a name is (tasks are delegated to them): the users' module answers.
        self.people: Callable[[Session, str], Principal | None] = _nobody
        self.workflows = WorkflowCache(getattr(settings, "workflow_cache_size", 1000))
        self._bundles: dict[int, dict[str, ProcessSpec]] = {}
        self._definitions: dict[int, tuple[int, str]] = {}  # definition id -> (deployment id, process key)
        self._latest: dict[str, tuple[int, int]] = {}  # process key -> (definition id, version)
        self._lock = threading.Lock()

    def spec_for(self, session: Session, definition_id: int) -> tuple[ProcessDefinition, ProcessSpec]:
        definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"process definition {definition_id} not found")
        bundle = self._bundles.get(definition.deployment_id)
        if bundle is None:
            deployment = session.get(Deployment, definition.deployment_id)
            files = {name: text.encode() for name, text in deployment.files.items()}
            bundle = self.engine.parse_bundle(files)
            with self._lock:
                self._bundles[definition.deployment_id] = bundle
        return definition, bundle[definition.process_key]

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

    def task_context(self, session: Session, who, task, variables: dict) -> dict | None:
        view = self.task_views.get(task.process_key)
        return view(session, who, task, variables) if view is not None else None

    def remember_bundle(self, deployment_id: int, bundle: dict[str, ProcessSpec]) -> None:
        with self._lock:
            self._bundles[deployment_id] = bundle
