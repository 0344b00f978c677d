"""How BPMN drawn in other modelers is read: SpiffArena's message correlation (correlation keys and
properties with retrieval expressions, `spiffworkflow:processVariableCorrelation`), Camunda 7's
`camunda:` attributes on user tasks and `${var}` references, and literal ISO 8601 timers.

Before SpiffWorkflow parses a file, `prepare` checks it and rewrites what a modeler wrote into
what Kontor evaluates (a literal timer becomes a Python string, a Camunda user task attribute a
`spiffworkflow:property`); at deploy every construct Kontor cannot honour is refused with a
SpecError naming the file, the element and the reason, never deployed to wait forever.
After parsing, `message_correlations` tells how each message a process catches is correlated.
Part of the engine adapter (runtime.engine): only it uses this module.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.specs.base import TaskSpec

from kernel.errors import ProcessError, SpecError
from runtime.moments import parse_duration, resolve_moment

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
PYTHON = {"", "python", "python3", "py", "text/x-python", "text/python", "application/x-python"}
# Event kinds SpiffWorkflow parses but Kontor cannot carry through (nothing would ever fire them)
UNSUPPORTED_EVENTS = {
    "signalEventDefinition": "signals are not supported (no instance hears another's signal); use a message",
    "conditionalEventDefinition": "conditional events are not supported (nothing re-evaluates their condition); "
                                  "use a gateway or a message",
    "compensateEventDefinition": "compensation is not supported",
    "linkEventDefinition": "link events are not supported; draw the sequence flow",
}
# camunda: attributes that change nothing Kontor does (history, versions, job execution)
CAMUNDA_IGNORED = {"historyTimeToLive", "versionTag", "isStartableInTasklist", "asyncBefore", "asyncAfter",
                   "exclusive", "jobPriority", "taskPriority"}
# camunda: attribute on a user task -> (Kontor property for a literal, Kontor property for `${var}`)
CAMUNDA_TASK = {"candidateGroups": ("candidateGroups", "candidateGroupsExpression"),
                "candidateUsers": ("candidateUsers", "candidateUsersExpression"),
                "assignee": ("assignee", "assignee"), "dueDate": ("dueDate", "dueDate"),
                "followUpDate": ("followUpDate", "followUpDate"), "priority": ("priority", "priority"),
                "formKey": ("formJsonSchemaFilename", None)}
_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_FORM_PREFIXES = ("embedded:deployment:", "embedded:app:", "deployment:", "app:", "camunda-forms:deployment:")
Shape = tuple[tuple[str, str], ...]  # a message's correlation properties: (property id, retrieval expression)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _where(element: Any) -> str:
    """The element as SpecError names it: its tag and id (else its line)."""
    name = etree.QName(element).localname
    return f"{name} {element.get('id')}" if element.get("id") else f"{name} (line {element.sourceline})"


def _host(element: Any) -> Any:
    """The flow element an event definition, expression or extension belongs to."""
    node = element
    while node is not None and (node.get("id") is None or etree.QName(node).localname.endswith("Definition")):
        node = node.getparent()
    return node if node is not None else element


def el_reference(text: str) -> str | None:
    """A Camunda expression: the variable name of `${var}`; None for a literal. Anything else in
    `${...}` or `#{...}` (JUEL, FEEL, method calls) raises ValueError: Kontor cannot evaluate it."""
    stripped = text.strip()
    match = _VARIABLE.fullmatch(stripped)
    if match:
        return match.group(1)
    if "${" in stripped or "#{" in stripped:
        raise ValueError(f"the expression {stripped[:80]!r} cannot be evaluated: only literals and "
                         "a plain variable reference `${name}` are understood")
    return None


# ----------------------------------------------------------------- before parsing
def prepare(name: str, content: bytes, forms: set[str], strict: bool = True) -> bytes:
    """The file as SpiffWorkflow is to parse it. strict (a deploy): refuse what cannot run;
    otherwise (a stored deployment parsed again for its instances) only rewrite."""
    root = etree.fromstring(content)
    before = etree.tostring(root)

    def refuse(element: Any, reason: str) -> None:
        if strict:
            raise SpecError(name, _where(_host(element)), reason)

    for element in root.iter(etree.Element):
        local, namespace = etree.QName(element).localname, etree.QName(element).namespace
        if namespace == BPMN and local in UNSUPPORTED_EVENTS:
            refuse(element, UNSUPPORTED_EVENTS[local])
        elif namespace == BPMN and local == "eventBasedGateway":
            refuse(element, "event-based gateways are not supported; put boundary events on a receive task")
        language = element.get("language") or element.get("scriptFormat")
        if language is not None and language.strip().lower() not in PYTHON:
            refuse(element, f"the language {language!r} is not supported; expressions and scripts are Python")
        parent = element.getparent()
        if namespace == CAMUNDA and parent is not None and etree.QName(parent).localname == "extensionElements" \
                and local != "properties":
            refuse(element, f"camunda:{local} is not supported")
        for attribute in element.attrib:
            qname = etree.QName(attribute)
            if qname.namespace == CAMUNDA and qname.localname not in CAMUNDA_IGNORED and not (
                    local == "userTask" and qname.localname in CAMUNDA_TASK):
                refuse(element, f"camunda:{qname.localname} is not supported here")
    _check_events(root, refuse)
    for timer in root.iter(*(_q(BPMN, kind) for kind in ("timeDate", "timeDuration", "timeCycle"))):
        timer.text = _timer_text(etree.QName(timer).localname, timer.text or "", lambda r, t=timer: refuse(t, r))
    for condition in root.iter(_q(BPMN, "conditionExpression")):
        try:
            variable = el_reference(condition.text or "")
        except ValueError as exc:
            refuse(condition, str(exc))
            continue
        if variable is not None:
            condition.text = variable
    for task in root.iter(_q(BPMN, "userTask")):
        _camunda_task(task, forms, lambda r, t=task: refuse(t, r))
    after = etree.tostring(root)
    if after == before:
        return content  # nothing rewritten: the very file (line numbers in SpiffWorkflow's errors stay true)
    return bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"))


def _check_events(root: Any, refuse: Any) -> None:
    definitions = ("messageEventDefinition", "timerEventDefinition", "errorEventDefinition",
                   "escalationEventDefinition", "cancelEventDefinition", "terminateEventDefinition",
                   *UNSUPPORTED_EVENTS)
    for event in root.iter(*(_q(BPMN, kind) for kind in ("startEvent", "intermediateCatchEvent", "boundaryEvent",
                                                         "intermediateThrowEvent", "endEvent"))):
        found = [child for child in event if etree.QName(child).localname in definitions]
        if len(found) > 1:
            refuse(event, "an event with more than one event definition is not supported")
        kind = etree.QName(event).localname
        if kind == "startEvent" and any(etree.QName(child).localname == "timerEventDefinition" for child in found):
            refuse(event, "a timer start event would start nothing by itself: Kontor starts a process through "
                          "its API or a message start event (start it on a schedule from outside)")
        if kind in ("intermediateThrowEvent", "endEvent") and any(
                etree.QName(child).localname == "messageEventDefinition" for child in found):
            refuse(event, "a thrown message would reach no other instance; send it with a service task")
    for task in root.iter(_q(BPMN, "sendTask")):
        refuse(task, "a send task would reach no other instance; send the message with a service task")
    for task in root.iter(_q(BPMN, "receiveTask")):
        inner = [etree.QName(child).localname for child in task if etree.QName(child).localname.endswith(
            "EventDefinition")]
        if any(kind != "messageEventDefinition" for kind in inner):
            refuse(task, "a receive task waits for a message only; use an intermediate catch event for the rest")
        elif task.get("messageRef") is None and not inner:
            refuse(task, "a receive task must name the message it waits for (messageRef)")


def _timer_text(kind: str, text: str, refuse: Any) -> str:
    """A literal ISO 8601 timer as the Python string Kontor evaluates; `${var}` as `var`; an
    expression as it is. Refused: a text that is neither a valid literal nor an expression."""
    stripped = text.strip()
    try:
        variable = el_reference(stripped)
    except ValueError as exc:
        refuse(str(exc))
        return text
    if variable is not None:
        return variable
    if _is_literal(kind, stripped):
        if kind == "timeDate" and datetime.fromisoformat(stripped).tzinfo is None:  # Kontor's dates are UTC
            return repr(datetime.fromisoformat(stripped).replace(tzinfo=timezone.utc).isoformat())
        return repr(stripped)
    try:
        if _LOOKS_LITERAL.match(stripped):  # e.g. R3/PT10X would be a division in Python: meant as a literal
            raise SyntaxError(stripped)
        compile(stripped, "<timer>", "eval")
    except SyntaxError:
        refuse(f"{kind} {stripped[:80]!r} is neither an ISO 8601 {_KINDS[kind]} nor a Python expression")
        return text
    if not stripped:
        refuse(f"{kind} is empty")
    return text


_LOOKS_LITERAL = re.compile(r"(R\d*/|P\d|PT\d|\d{4}-\d{2})", re.IGNORECASE)
_KINDS = {"timeDate": "date/time", "timeDuration": "duration", "timeCycle": "cycle (e.g. R3/PT10M)"}


def _is_literal(kind: str, text: str) -> bool:
    try:
        if kind == "timeDuration":
            parse_duration(text)
        elif kind == "timeDate":
            datetime.fromisoformat(text)
        elif text.upper().startswith("R") and "/" in text:
            for part in text.upper().replace("--", "/").split("/")[1:]:
                if part.startswith("P"):
                    parse_duration(part)
                else:
                    datetime.fromisoformat(part)
            TimerEventDefinition.parse_iso_recurring_interval(text)
        else:
            return False
    except Exception:  # noqa: BLE001 - SpiffWorkflow reports a malformed interval with a bare Exception
        return False
    return True


def _camunda_task(task: Any, forms: set[str], refuse: Any) -> None:
    """Camunda 7's user task attributes as Kontor's properties; Kontor's own properties win."""
    mapped = {attribute: task.get(_q(CAMUNDA, attribute)) for attribute in CAMUNDA_TASK}
    mapped = {attribute: value for attribute, value in mapped.items() if value is not None and value.strip()}
    if not mapped:
        return
    extensions = task.find(_q(BPMN, "extensionElements"))
    if extensions is None:
        extensions = etree.Element(_q(BPMN, "extensionElements"))
        task.insert(len(task.findall(_q(BPMN, "documentation"))), extensions)  # (after documentation: the schema)
    properties = extensions.find(_q(SPIFF, "properties"))
    if properties is None:
        properties = etree.SubElement(extensions, _q(SPIFF, "properties"))
    own = {p.get("name") for p in properties.iter(_q(SPIFF, "property"))}
    for attribute, value in mapped.items():
        literal_name, variable_name = CAMUNDA_TASK[attribute]
        try:
            variable = el_reference(value)
            text = _task_value(attribute, value.strip(), variable, forms)
        except ValueError as exc:
            refuse(f"camunda:{attribute}: {exc}")
            continue
        target = literal_name if variable is None else variable_name
        if own & {literal_name, variable_name} or target is None:
            continue
        etree.SubElement(properties, _q(SPIFF, "property"), name=target, value=text)


def _task_value(attribute: str, value: str, variable: str | None, forms: set[str]) -> str:
    """A Camunda user task attribute's value as the Kontor property's value (ValueError: refused)."""
    if attribute == "formKey":
        if variable is not None:
            raise ValueError("a form chosen by a variable is not supported")
        file = value
        for prefix in _FORM_PREFIXES:
            file = file.removeprefix(prefix)
        file = file.rsplit("/", 1)[-1]
        if file not in forms:
            raise ValueError(f"{value!r} names no JSON schema file of the deployment; Kontor's forms are "
                             "JSON schemas (the file must be deployed beside the model)")
        return file
    if variable is not None:
        return variable
    if attribute in ("candidateGroups", "candidateUsers"):
        return value
    if attribute == "priority":
        if not value.isdigit():
            raise ValueError(f"priority {value!r} is not a whole number")
        return value
    if attribute in ("dueDate", "followUpDate"):
        try:
            resolve_moment(value)
        except ProcessError as exc:
            raise ValueError(str(exc)) from None
    return repr(value)


# ----------------------------------------------------------------- after parsing
def properties(task_spec: TaskSpec) -> dict[str, Any]:
    """The `spiffworkflow:property` values of a task (Kontor's own and those mapped above)."""
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


def shape_of(task_spec: TaskSpec) -> Shape | None:
    """How a message catch is correlated: its standard correlation properties, or None (Kontor's
    own `correlation` property, which wins, or none at all)."""
    definition = getattr(task_spec, "event_definition", None)
    if not isinstance(definition, MessageEventDefinition) or "correlation" in properties(task_spec):
        return None
    return tuple(sorted((p.name, p.retrieval_expression) for p in definition.correlation_properties)) or None


def message_correlations(file: str, specs: list[Any], strict: bool,
                         seen: dict[str, tuple[Shape | None, str]]) -> dict[str, Shape | None]:
    """Message name -> how the processes' catch events correlate it (`seen`: what the bundle's
    other processes said). strict: refuse a catch that has no way to correlate (a message start
    event needs none), and a message correlated two ways in one deployment."""
    found: dict[str, Shape | None] = {}
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if not isinstance(definition, MessageEventDefinition) or not isinstance(task_spec, CatchingEvent) \
                    or isinstance(task_spec, StartEvent):
                continue
            kind = type(task_spec).__name__  # (SpiffWorkflow's class: the BPMN tag, capitalized)
            where = f"{kind[:1].lower()}{kind[1:]} {task_spec.bpmn_id or task_spec.name}"
            shape = shape_of(task_spec)
            if strict and shape is None and "correlation" not in properties(task_spec):
                raise SpecError(spec.file or file, where, (
                    f"it waits for message {definition.name!r} but names nothing to correlate it by, so a message "
                    "could not tell the waiting instances apart: add a correlation key with correlation properties "
                    "(a retrieval expression for this message) or Kontor's `correlation` property"))
            known = seen.setdefault(definition.name, (shape, where))
            if strict and known[0] != shape:
                raise SpecError(spec.file or file, where, (
                    f"message {definition.name!r} is correlated otherwise by {known[1]}; a message is correlated "
                    "the same way wherever it is caught"))
            found[definition.name] = shape
    return found


def message_starts(file: str, spec: Any, strict: bool, seen: dict[str, str]) -> frozenset[str]:
    """The messages whose arrival starts this process (its message start events). strict: refuse a
    message that would start two processes of one deployment (`seen`: message -> process)."""
    names = set()
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(task_spec, StartEvent) and isinstance(definition, MessageEventDefinition):
            other = seen.setdefault(definition.name, spec.name)
            if strict and other != spec.name:
                raise SpecError(spec.file or file, f"startEvent {task_spec.bpmn_id or task_spec.name}", (
                    f"message {definition.name!r} starts process {other!r} already; a message starts one process"))
            names.add(definition.name)
    return frozenset(names)
