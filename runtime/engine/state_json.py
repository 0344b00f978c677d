"""A workflow's state as JSON text and back: SpiffWorkflow's serializer layout without the spec
(the parsed spec of the instance's version is kept by the runtime), with Kontor's converters for
Decimal and date. Part of the engine adapter; runtime.engine delegates to it.

Writing the state is a good part of every step's cost. A task's id appears four times in it (as
its key, its own id, its children's parent and its parent's child), and turning a UUID into text
and back is most of the conversion's work: each id is turned into text once per dump, and each
text into a UUID once per load. The text is written by orjson, about fifteen
times faster than the standard library, whenever orjson writes exactly what the standard
library would: the values are walked first (that walk also decides whether the state is
faithful, see StateJson.dump), and a state holding anything orjson writes in its own way (a
UUID, a float that is not finite) or refuses (an integer beyond 64 bits, a lone surrogate, a
key that is not text) is written by the standard library, as before. Either text reads back
the same with the standard library's reader, which reads every state.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import ModuleType
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer.default import workflow as spiff_workflow_converters
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge

from kernel.errors import ProcessError

STATE_VERSION = f"kontor-1/spiff-{SPIFF_SERIALIZER_VERSION}"
_PROCESS_DATA, _TASK_DATA = frozenset({"data", "correlations"}), ("data", "internal_data", "delta")
# How a value comes back from its JSON (worst first, so that a state's verdict is the minimum):
_CHANGED = 0  # as something else: the workflow is not faithful
_EXACT = 1  # as it is, if the standard library writes it (orjson would write a UUID as bare text, NaN as null)
_PLAIN = 2  # as it is, and orjson writes it as the standard library does
_PLAIN_TYPES = frozenset({str, int, bool, type(None), Decimal, date})  # (too large an int: orjson refuses it)
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS


_ids = threading.local()  # .texts: id text by UUID object during a dump; .uuids: UUID by text during a load


def _text(uuid: UUID) -> str:
    """The id's text, turned once per dump (by the object: the tasks share their id objects)."""
    texts = getattr(_ids, "texts", None)
    if texts is None:
        return str(uuid)
    known = texts.get(id(uuid))
    if known is None or known[0] is not uuid:
        known = texts[id(uuid)] = (uuid, str(uuid))  # (the entry keeps the object, and so its id, alive)
    return known[1]


def _uuid(text: str) -> UUID:
    """The UUID of an id's text, parsed once per load; the tasks then share it, as after a start."""
    uuids = getattr(_ids, "uuids", None)
    if uuids is None:
        return UUID(text)
    known = uuids.get(text)
    if known is None:
        known = uuids[text] = UUID(text)
    return known


spiff_workflow_converters.UUID = _uuid  # (SpiffWorkflow's converters only construct ids with it)


@contextmanager
def _memo(name: str):
    setattr(_ids, name, {})
    try:
        yield
    finally:
        setattr(_ids, name, None)


class _TaskConverter(TaskConverter):
    """SpiffWorkflow's task converter (the same dictionary), with each id turned into text once."""

    def to_dict(self, task):
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            data, delta = {}, {"updates": DeepMerge.get_updated_keys(parent.data, task.data),
                               "deletions": DeepMerge.get_deleted_keys(parent.data, task.data)}
        return {"id": _text(task.id), "parent": None if parent is None else _text(task._parent),
                "children": [_text(child) for child in task._children], "last_state_change": task.last_state_change,
                "state": task.state, "task_spec": task.task_spec.name, "triggered": task.triggered,
                "internal_data": self.registry.convert(task.internal_data), "data": data, "delta": delta}


class _WorkflowConverter(BpmnWorkflowConverter):
    def mapping_to_dict(self, mapping, **kwargs):
        return {_text(key) if type(key) is UUID else str(key): self.registry.convert(value, **kwargs)
                for key, value in mapping.items()}


class StateJson:
    def __init__(self):
        self.registry = BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, Task: _TaskConverter})
        self.registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
        self.registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
        self._encoder_cls = create_encoder(self.registry, None)
        self._converter = _WorkflowConverter(BpmnWorkflow, self.registry)

    def dump(self, workflow: BpmnWorkflow) -> tuple[str, bool]:
        """The state as JSON, and whether loading it gives back the very same values: not so when
        scripts left tuples, sets or non-text dict keys in the data (JSON turns them into lists
        and text), so only a faithful workflow may be reused in place of its loaded state (see
        _kept)."""
        self.registry._encoder_mode = True
        try:
            with _memo("texts"):
                converter = self._converter
                dct = WorkflowConverter.to_dict(converter, workflow)
                dct["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
                dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            dct["state_version"] = STATE_VERSION
            kept = self._state_kept(dct)
            text = self._orjson(dct) if kept == _PLAIN else None
            if text is None:
                text = json.dumps(dct, cls=self._encoder_cls, separators=(",", ":"))
            return text, kept != _CHANGED
        finally:
            self.registry._encoder_mode = False

    def load(self, state: str, process, script_engine) -> BpmnWorkflow:
        dct = json.loads(state)
        version = dct.pop("state_version", None)
        if version != STATE_VERSION:
            raise ProcessError(f"stored state has version {version!r}, this Kontor reads {STATE_VERSION!r}")
        converter = self._converter
        workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=script_engine,
                                deserializing=True)
        with _memo("uuids"):
            workflow.tasks = converter.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
            converter.set_default_attributes(workflow, dct)
            converter.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow

    # ------------------------------------------------------------- writing
    def _orjson(self, dct: dict) -> str | None:
        """The state written by orjson; None where orjson refuses a value (the standard library
        writes it then). Values neither writes natively go through SpiffWorkflow's own rules."""
        try:
            return orjson.dumps(dct, default=self._default, option=_ORJSON_OPTIONS).decode()
        except orjson.JSONEncodeError:
            return None

    def _default(self, value):
        """What SpiffWorkflow's JSON encoder does with a value JSON has no form for."""
        typename = self.registry.typenames.get(type(value))
        if typename is not None:
            return self.registry.convert_to_dict[typename](value)
        if callable(value) or isinstance(value, ModuleType):
            return None
        if isinstance(value, set):
            return list(value)
        raise TypeError(f"{type(value).__name__} has no JSON form")

    # ------------------------------------------------------------- the walk
    def _state_kept(self, dct: dict) -> int:
        """_kept by position in SpiffWorkflow's layout: the process data, the correlations and
        each task's data, internal data and delta hold what scripts and outside events put there;
        the rest is the serializer's own (tasks, subprocesses and events name their type). A task's
        other entries (its id, parent, children, state, spec name …) are plain values the
        serializer writes itself, so only its data is looked at."""
        worst = _PLAIN
        for key, value in dct.items():
            if key == "tasks":
                kept = _PLAIN
                for task in value.values():
                    for name in _TASK_DATA:
                        if name in task:
                            kept = min(kept, self._kept(task[name], True))
            elif key == "subprocesses":
                kept = min((self._state_kept(subprocess) for subprocess in value.values()), default=_PLAIN)
            else:
                kept = self._kept(value, key in _PROCESS_DATA)
            if kept < worst:
                if kept == _CHANGED:
                    return _CHANGED
                worst = kept
        return worst

    def _kept(self, value, data: bool) -> int:
        """How JSON and the serializer's registry give this value back: plain JSON values of
        exactly their types (a tuple, a set, a subclass or a dict with other keys than text would
        come back changed), and the values the registry restores exactly (Decimal, date, UUID;
        datetimes without a zone or with a fixed offset; timedeltas of whole seconds). Other types
        the registry knows are judged by what it writes for them. In data, a dict with a
        `typename` key would be read back as the object that type names."""
        kind = type(value)
        if kind in _PLAIN_TYPES:
            return _PLAIN
        if kind is dict:
            if data and "typename" in value:
                return _CHANGED
            worst = _PLAIN
            for key, item in value.items():
                if type(key) is not str:
                    return _CHANGED
                kept = self._kept(item, data)
                if kept < worst:
                    if kept == _CHANGED:
                        return _CHANGED
                    worst = kept
            return worst
        if kind is list:
            return min((self._kept(item, data) for item in value), default=_PLAIN)
        if kind is float:
            return _PLAIN if value - value == 0 else _EXACT  # (inf - inf and NaN - NaN are NaN)
        if kind is UUID:
            return _EXACT
        if kind is datetime:
            return _PLAIN if value.tzinfo is None or type(value.tzinfo) is timezone else _CHANGED
        if kind is timedelta:
            return _PLAIN if value.microseconds == 0 else _CHANGED
        typename = self.registry.typenames.get(kind)
        if typename in self.registry.convert_to_dict:
            return self._kept(self.registry.convert_to_dict[typename](value), False)
        return _CHANGED
