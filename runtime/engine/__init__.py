"""The BPMN engine adapter: with runtime.engine.spiff_setup (SpiffWorkflow's parser, script
engine and corrections), the only code of Kontor that imports SpiffWorkflow.

It parses deployment bundles, runs a workflow until it waits, reports what it waits
for (human tasks, messages, timers, service jobs) as plain data, applies outside
events (a completed task, a message, a due timer, a service result) and turns a
workflow into JSON and back. The parsed specs of a version are kept by the caller,
so the stored state holds tasks and data only, never the spec.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeAlias
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from kernel.errors import ProcessError, SpecError
from kernel.principal import normalize_group
from runtime.engine.conventions import Shape, message_correlations, message_starts, prepare, shape_of
from runtime.engine.conventions import properties as _properties
from runtime.engine.spiff_setup import RESULT_KEY, CompilingEnvironment, KontorServiceTask, Parser, ScriptEngine
from runtime.engine.state_json import STATE_VERSION, StateJson
from runtime.moments import resolve_moment, to_utc

RESERVED_IDS = {"Start", "End", "Root"}  # SpiffWorkflow's own task spec names
# A running workflow, for the rest of the runtime (SpiffWorkflow ships no types: Any to mypy)
Workflow: TypeAlias = BpmnWorkflow


# ----------------------------------------------------------------- what a workflow waits for
@dataclass
class HumanTaskInfo:
    task_id: str
    spec_name: str
    title: str
    lane: str | None
    candidate_groups: list[str]
    form_schema: dict[str, Any] | None
    ui_schema: dict[str, Any] | None
    due_at: datetime | None
    follow_up_at: datetime | None
    priority: int
    documentation: str | None
    assignee: str | None = None  # from the `assignee` expression: the task starts claimed by this user
    candidate_users: list[str] = field(default_factory=list)  # users the model names (the assignee above)
    guard: str | None = None  # a named check the domain runs before the task is claimed or completed


@dataclass
class MessageWaitInfo:
    task_id: str
    spec_name: str
    message_name: str
    correlation: dict[str, Any]


@dataclass
class TimerInfo:
    task_id: str
    spec_name: str
    due_at: datetime
    kind: str


@dataclass
class ServiceJobInfo:
    task_id: str
    spec_name: str
    operation: str
    params: dict[str, Any]
    max_attempts: int | None
    backoff_base: float | None


@dataclass
class Snapshot:
    completed: bool
    human_tasks: list[HumanTaskInfo] = field(default_factory=list)
    messages: list[MessageWaitInfo] = field(default_factory=list)
    timers: list[TimerInfo] = field(default_factory=list)
    service_jobs: list[ServiceJobInfo] = field(default_factory=list)


@dataclass
class ProcessSpec:
    """One parsed process of a deployed bundle."""
    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, dict[str, Any]]
    # message name -> the correlation properties its catch events match on (None: Kontor's `correlation`)
    messages: dict[str, Shape | None] = field(default_factory=dict)
    starts: frozenset[str] = frozenset()  # the messages that start an instance (message start events)


# ----------------------------------------------------------------- value helpers
def _priority(value: Any) -> int:
    """A task's priority: 0..1000, 50 when the model sets none."""
    if value is None or value == "":
        return 50
    try:
        return min(1000, max(0, int(value)))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ProcessError(f"priority {str(value)[:40]!r} is not a whole number") from exc


def canonical_correlation(values: dict[str, Any]) -> str:
    """The one text form of a set of correlation values, used to match messages to subscribers."""
    return json.dumps({str(k): v for k, v in values.items()}, sort_keys=True, separators=(",", ":"), default=str)


class ProcessEngine:
    """Wraps SpiffWorkflow: parser, script engine and serializer are set up once."""

    def __init__(self, script_globals: dict[str, Any] | None = None):
        env_globals = {"Decimal": Decimal, "datetime": datetime, "date": date, "timedelta": timedelta,
                       "timezone": timezone}
        env_globals.update(script_globals or {})
        self.script_engine = ScriptEngine(environment=CompilingEnvironment(env_globals))
        self._state = StateJson()

    # ------------------------------------------------------------- parsing
    def parse_bundle(self, files: dict[str, bytes], strict: bool = True) -> dict[str, ProcessSpec]:
        """Parse one deployment: BPMN and DMN files plus the JSON form schemas they reference.
        strict (a deploy): refuse what Kontor cannot run (runtime.engine.conventions); a stored
        deployment parsed again for its running instances is only read."""
        parser = Parser(validator=VALIDATOR)
        forms: dict[str, dict[str, Any]] = {}
        for name, content in sorted(files.items()):
            if name.endswith(".json"):
                try:
                    forms[name.rsplit("/", 1)[-1]] = json.loads(content)
                except ValueError as exc:
                    raise SpecError(name, "(form schema)", f"not valid JSON: {exc}") from exc
        for name, content in sorted(files.items()):
            try:
                if name.endswith(".dmn"):
                    parser.add_dmn_str(content, filename=name)
                elif name.endswith(".bpmn"):
                    _check_ids(name, content)
                    parser.add_bpmn_str(prepare(name, content, set(forms), strict), filename=name)
            except ValidationException as exc:
                raise SpecError(exc.file_name or name, _element(exc), str(exc)) from exc
            except etree.XMLSyntaxError as exc:
                raise SpecError(name, f"line {exc.lineno}", f"XML does not parse: {exc.msg}") from exc
        result: dict[str, ProcessSpec] = {}
        seen: dict[str, tuple[Shape | None, str]] = {}  # message name -> its correlation, where first seen
        starting: dict[str, str] = {}  # message name -> the process it starts
        for process_id in parser.get_process_ids():
            try:
                spec = parser.get_spec(process_id)
                subprocess_specs = parser.get_subprocess_specs(process_id)
            except ValidationException as exc:
                raise SpecError(exc.file_name or "?", _element(exc), str(exc)) from exc
            except SpiffWorkflowException as exc:
                raise SpecError(getattr(exc, "file_name", "?"), "?", str(exc)) from exc
            for task_spec in spec.task_specs.values():
                form_file = _properties(task_spec).get("formJsonSchemaFilename")
                if form_file and form_file not in forms:
                    raise SpecError(spec.file or process_id, task_spec.bpmn_id or task_spec.name,
                                    f"form schema file {form_file!r} is not in the deployment")
            messages = message_correlations(spec.file or process_id, [spec, *subprocess_specs.values()], strict, seen)
            result[process_id] = ProcessSpec(process_id, spec.description or process_id, spec, subprocess_specs, forms,
                                             messages, message_starts(spec.file or process_id, spec, strict, starting))
        return result

    # ------------------------------------------------------------- lifecycle
    def start(self, process: ProcessSpec, data: dict[str, Any]) -> BpmnWorkflow:
        workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=self.script_engine)
        workflow.data.update(data)  # process variables visible to every task
        start_task = workflow.task_tree
        start_task.data.update(data)
        self.run(workflow)
        return workflow

    def run(self, workflow: BpmnWorkflow) -> None:
        """Run every task the engine can run by itself, until the workflow waits or ends."""
        try:
            workflow.do_engine_steps()
        except ProcessError:
            raise
        except SpiffWorkflowException as exc:
            raise ProcessError(_describe(exc)) from exc

    def snapshot(self, workflow: BpmnWorkflow, process: ProcessSpec, now: datetime | None = None) -> Snapshot:
        now = now or datetime.now(timezone.utc)
        snap = Snapshot(completed=workflow.completed)
        if workflow.completed:
            return snap
        for task in workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            if isinstance(spec, KontorServiceTask):
                snap.service_jobs.append(self._service_job(task))
            else:
                snap.human_tasks.append(self._human_task(task, process, now))
        for task in list(workflow.event_manager.tasks.values()):
            definition = task.task_spec.event_definition
            details = definition.details(task)
            if isinstance(definition, TimerEventDefinition):
                if isinstance(details.value, str):  # a finished cycle reports a dict
                    snap.timers.append(TimerInfo(str(task.id), task.task_spec.bpmn_id or task.task_spec.name,
                                                 to_utc(datetime.fromisoformat(details.value)),
                                                 type(definition).__name__))
            elif isinstance(definition, MessageEventDefinition):
                snap.messages.append(MessageWaitInfo(str(task.id), task.task_spec.bpmn_id or task.task_spec.name,
                                                     definition.name, self._waiting_correlation(task)))
        return snap

    def _waiting_correlation(self, task: Task) -> dict[str, Any]:
        """The values a waiting catch event matches: Kontor's `correlation` property names process
        variables; correlation properties take SpiffArena's processVariableCorrelation expression,
        else the property's retrieval expression, over the process data (keyed by property id)."""
        shape = shape_of(task.task_spec)
        if shape is None or isinstance(task.task_spec, StartEvent):
            keys = [k.strip() for k in _properties(task.task_spec).get("correlation", "").split(",") if k.strip()]
            return {key: task.data.get(key) for key in keys}
        own = {p.name: p.retrieval_expression for p in getattr(task.task_spec.event_definition,
                                                               "process_correlations", [])}
        return {prop: self._evaluate(task, own.get(prop, expression)) for prop, expression in shape}

    def message_correlation(self, shape: Shape, correlation: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """The values of a message sent to catch events correlated by properties: each property's
        value as `correlation` gives it (keyed by property id), else its retrieval expression over
        the payload. ProcessError: a property has no value, or `correlation` names an unknown one."""
        names = [prop for prop, _ in shape]
        unknown = sorted(set(correlation) - set(names))
        if unknown:
            raise ProcessError(f"this message is correlated by {', '.join(names)}; unknown: {', '.join(unknown)}")
        values = {}
        for prop, expression in shape:
            if prop in correlation:
                values[prop] = correlation[prop]
                continue
            try:
                values[prop] = self.script_engine.environment.evaluate(expression, dict(payload))
            except Exception as exc:  # noqa: BLE001 - whatever the expression raises on this payload
                raise ProcessError(f"correlation property {prop!r}: {expression!r} gives no value from the "
                                   f"message's data ({type(exc).__name__}: {exc}); give it in the data or as "
                                   f"correlation {{{prop!r}: …}}") from None
        return values

    def _human_task(self, task: Task, process: ProcessSpec, now: datetime) -> HumanTaskInfo:
        spec = task.task_spec
        props = _properties(spec)
        groups = [g for g in (props.get("candidateGroups") or "").split(",") if g.strip()]
        if props.get("candidateGroupsExpression"):  # groups decided by the process data, e.g. an approval level
            value = self._evaluate(task, props["candidateGroupsExpression"]) or []
            groups = [g for g in (value.split(",") if isinstance(value, str) else value) if str(g).strip()]
        if not groups and spec.lane:
            groups = [spec.lane]
        assignee = str(self._evaluate(task, props["assignee"]) or "") or None if props.get("assignee") else None
        users = props.get("candidateUsers") or ""  # a list, or an expression giving one (Camunda's candidateUsers)
        named = self._evaluate(task, props["candidateUsersExpression"]) if props.get("candidateUsersExpression") \
            else users
        users = [str(u).strip() for u in (named.split(",") if isinstance(named, str) else named or [])
                 if str(u).strip()]
        form_file = props.get("formJsonSchemaFilename")
        ui_file = props.get("formUiSchemaFilename")
        priority = self._evaluate(task, props.get("priority"))
        return HumanTaskInfo(
            task_id=str(task.id), spec_name=spec.bpmn_id or spec.name, title=self._title(task, props.get("title")),
            lane=spec.lane, candidate_groups=[normalize_group(g) for g in groups],
            form_schema=process.forms.get(form_file) if form_file else None,
            ui_schema=process.forms.get(ui_file) if ui_file else None,
            due_at=resolve_moment(self._evaluate(task, props.get("dueDate")), now),
            follow_up_at=resolve_moment(self._evaluate(task, props.get("followUpDate")), now),
            priority=_priority(priority),
            documentation=getattr(spec, "documentation", None),
            assignee=assignee, candidate_users=list(dict.fromkeys(([assignee] if assignee else []) + users)),
            guard=props.get("guard") or None,
        )

    def _title(self, task: Task, expression: str | None) -> str:
        """What the inbox shows: the `title` expression's text when the model has one and it can be
        evaluated on the task's data (e.g. the offer's number, customer and amount), else the task's name.
        A title is only a label: one the data cannot give never stops the process."""
        spec = task.task_spec
        name = str(spec.bpmn_name or spec.name)
        if not expression:
            return name
        try:
            value = self.script_engine.evaluate(task, expression)
        except Exception:  # noqa: BLE001 - any error of the model's expression: the plain name
            return name
        text = " ".join(str(value or "").split())
        return text[:300] if text else name

    def _service_job(self, task: Task) -> ServiceJobInfo:
        spec = task.task_spec
        try:
            params = {name: p["value"] for name, p in spec.evaluate_params(task).items()}
        except SpiffWorkflowException as exc:
            raise ProcessError(_describe(exc)) from exc
        return ServiceJobInfo(str(task.id), spec.bpmn_id or spec.name, spec.operation_name, params,
                              spec.retries, float(spec.retry_backoff_base) if spec.retry_backoff_base else None)

    def _evaluate(self, task: Task, expression: str | None) -> Any:  # (what the model's expression gives)
        if not expression:
            return None
        try:
            return self.script_engine.evaluate(task, expression)
        except SpiffWorkflowException as exc:
            raise ProcessError(_describe(exc)) from exc

    # ------------------------------------------------------------- outside events
    def _task(self, workflow: BpmnWorkflow, task_id: str) -> Task:
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None:
            raise KeyError(task_id)
        return task

    def human_task_property(self, workflow: BpmnWorkflow, task_id: str, name: str) -> str | None:
        """A `spiffworkflow:property` of a waiting human task as its model states it (None: absent),
        read from the spec the instance runs on (e.g. `completion`, which is not indexed)."""
        task = self._task(workflow, task_id)
        value = _properties(task.task_spec).get(name)
        return None if value is None else str(value)

    def complete_human_task(self, workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
        task = self._task(workflow, task_id)
        if task.state != TaskState.READY or isinstance(task.task_spec, KontorServiceTask):
            raise KeyError(task_id)
        task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise ProcessError(_describe(exc)) from exc
        self.run(workflow)

    def complete_service_task(self, workflow: BpmnWorkflow, task_id: str, result: Any) -> None:
        task = self._task(workflow, task_id)
        if task.state != TaskState.READY or not isinstance(task.task_spec, KontorServiceTask):
            raise KeyError(task_id)
        task.internal_data[RESULT_KEY] = result
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise ProcessError(_describe(exc)) from exc
        self.run(workflow)

    def deliver_message(self, workflow: BpmnWorkflow, task_id: str, name: str, data: dict[str, Any]) -> None:
        """Hand a correlated message to the one catch event that waits for it."""
        task = self._task(workflow, task_id)
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, MessageEventDefinition) or definition.name != name \
                or task.state != TaskState.WAITING:
            raise KeyError(task_id)
        event = BpmnEvent(definition, payload=dict(data))
        if definition.correlation_properties:  # matched by Kontor already: SpiffWorkflow's own
            definition.update_internal_data(task, event)  # check of the payload's values is not asked
            EventDefinition.catch(definition, task, event)
            task._set_state(TaskState.WAITING)
        else:
            task.task_spec.catch(task, event)
        task.task_spec._update(task)
        if getattr(definition, "message_var", None) is None:
            task.data.update(data)
        self.run(workflow)

    def fire_timers(self, workflow: BpmnWorkflow) -> None:
        workflow.refresh_timers()
        self.run(workflow)

    def reschedule_timer(self, workflow: BpmnWorkflow, task_id: str, due_at: datetime) -> None:
        """Move a waiting duration or date timer to another moment (ops' "set due date")."""
        task = self._task(workflow, task_id)
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition) or task.state != TaskState.WAITING \
                or not isinstance(definition.details(task).value, str):
            raise KeyError(task_id)
        task._set_internal_data(event_value=to_utc(due_at).isoformat())

    def cancel(self, workflow: BpmnWorkflow) -> None:
        workflow.cancel()

    def variables(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """The process variables: the data of the last completed task merged over the start data."""
        data = dict(workflow.data)
        last = workflow.last_task
        if last is not None:
            data.update(last.data)
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
            data.update(task.data)
        return {k: v for k, v in data.items() if not callable(v)}

    # ------------------------------------------------------------- state as JSON (runtime.engine.state_json)
    def dump(self, workflow: BpmnWorkflow) -> str:
        return self.dump_faithful(workflow)[0]

    def dump_faithful(self, workflow: BpmnWorkflow) -> tuple[str, bool]:
        """The state as JSON, and whether loading it gives back the very same values (only such a
        workflow may be reused in place of its loaded state)."""
        return self._state.dump(workflow)

    def load(self, state: str, process: ProcessSpec) -> BpmnWorkflow:
        return self._state.load(state, process, self.script_engine)


def _check_ids(name: str, content: bytes) -> None:
    """Checks the parser does not make, or reports confusingly: reserved ids and sequence flows whose
    source or target is no element of the file."""
    root = etree.fromstring(content)
    ids = set()
    for element in root.iterfind(".//*[@id]"):
        if element.get("id") in RESERVED_IDS:
            raise SpecError(name, f"{etree.QName(element).localname} {element.get('id')}",
                            f"the id {element.get('id')!r} is reserved by the engine; rename the element")
        ids.add(element.get("id"))
    for flow in root.iterfind(".//{*}sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref not in ids:
                raise SpecError(name, f"sequenceFlow {flow.get('id')} (line {flow.sourceline})",
                                f"its {end} {ref!r} is no element of this file")


def _element(exc: ValidationException) -> str:
    parts = [p for p in (getattr(exc, "tag", ""), getattr(exc, "id", "")) if p]
    line = getattr(exc, "line_number", "")
    text = " ".join(parts) or "(document)"
    return f"{text} (line {line})" if line else text


def _describe(exc: SpiffWorkflowException) -> str:
    task = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
    where = f"{getattr(task, 'bpmn_id', None) or getattr(task, 'name', '')}: " if task is not None else ""
    return f"{where}{exc}"


__all__ = [
    "ProcessEngine", "ProcessSpec", "Snapshot", "HumanTaskInfo", "MessageWaitInfo", "TimerInfo",
    "ServiceJobInfo", "ProcessError", "Shape", "canonical_correlation", "normalize_group", "resolve_moment",
    "STATE_VERSION",
]
