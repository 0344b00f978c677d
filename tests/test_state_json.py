"""The workflow state as JSON (runtime/engine/state_json.py), no database: which states are faithful
(loading them gives back the very same values, so the workflow may stay in memory), and that the
fast writer (orjson) writes nothing that reads back otherwise than the standard library's text."""
from __future__ import annotations

import json
import math
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from runtime.engine import ProcessEngine, state_json
from tests.test_engine_unit import WITH_TASKS, bundle

FAITHFUL_VALUES = [Decimal("12.50"), Decimal("-0.000"), date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5),
                   datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                   datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))), timedelta(days=1, seconds=3),
                   UUID("12345678-1234-5678-1234-567812345678"), {"nested": [1, 2.5, "x", None, True]}, 10 ** 30,
                   -(2 ** 64), float("inf"), [1e16, 1e-7, -0.0], {"deep": {"er": [Decimal("1.5"), date(2024, 5, 6)]}}]
CHANGED_VALUES = [(1, 2), {1: "one"}, {"inner": {None: 1}},
                  datetime(2024, 3, 31, 1, 0, tzinfo=ZoneInfo("Europe/Berlin")),
                  timedelta(microseconds=5), OrderedDict(a=1), [("a", 1)], IntEnum("Level", "LOW HIGH").HIGH,
                  {"typename": "Decimal", "value": "1"}, [{"typename": "Invoice", "number": 7}]]


class Colour(Enum):
    RED = "red"


class Label(str):
    pass


@pytest.fixture
def process(tmp_path):
    return ProcessEngine().parse_bundle(bundle(tmp_path, WITH_TASKS))["unit_process"]


def started(process, value):
    engine = ProcessEngine()
    return engine, engine.start(process, {"amount": Decimal("1"), "who": "x", "extra": value})


@pytest.mark.parametrize("value", FAITHFUL_VALUES, ids=repr)
def test_a_value_that_json_gives_back_as_it_is_keeps_the_workflow_faithful(process, value):
    engine, workflow = started(process, value)
    state, faithful = engine.dump_faithful(workflow)
    assert faithful
    restored = engine.variables(engine.load(state, process))["extra"]
    assert restored == value and type(restored) is type(value)


@pytest.mark.parametrize("value", CHANGED_VALUES, ids=repr)
def test_a_value_that_json_would_change_makes_the_workflow_unfaithful(process, value):
    engine, workflow = started(process, value)
    assert engine.dump_faithful(workflow)[1] is False


def test_a_process_variable_named_typename_makes_the_workflow_unfaithful(process):
    """SpiffWorkflow's registry reads any data dict with a `typename` key back as the object it names."""
    engine = ProcessEngine()
    workflow = engine.start(process, {"amount": Decimal("1"), "who": "x", "typename": "Invoice"})
    assert engine.dump_faithful(workflow)[1] is False


def test_not_a_number_comes_back_as_not_a_number(process):
    engine, workflow = started(process, float("nan"))
    state, faithful = engine.dump_faithful(workflow)
    assert faithful and math.isnan(engine.variables(engine.load(state, process))["extra"])


def standard_library_text(engine, workflow) -> str:
    """The state as the standard library alone writes it (the fast writer switched off)."""
    writer = engine._state
    fast, writer._orjson = writer._orjson, lambda dct: None
    try:
        return writer.dump(workflow)[0]
    finally:
        writer._orjson = fast


@pytest.mark.parametrize("value", [*FAITHFUL_VALUES, *CHANGED_VALUES, float("nan"), 2 ** 63, Colour.RED,
                                   Label("label"), {Label("key"): 1}, "\ud800", {"set": {3}}, [len]],
                         ids=repr)
def test_the_fast_writer_writes_what_reads_back_as_the_standard_librarys_text(process, value):
    engine, workflow = started(process, value)
    try:
        reference = standard_library_text(engine, workflow)
    except (TypeError, ValueError):  # the standard library has no form for it: neither may the fast writer
        with pytest.raises((TypeError, ValueError)):
            engine.dump(workflow)
        return
    state = engine.dump(workflow)
    assert json.loads(state, parse_constant=str) == json.loads(reference, parse_constant=str)


def test_a_plain_state_is_written_by_orjson_and_others_by_the_standard_library(process, monkeypatch):
    written = []
    monkeypatch.setattr(state_json.json, "dumps", lambda *args, **kwargs: written.append(1) or "{}")
    engine, plain = started(process, {"amount": Decimal("2.5"), "on": date(2024, 1, 2), "items": [1, "two"]})
    assert engine.dump(plain) != "{}" and written == []
    for value in (UUID(int=7), float("inf"), 2 ** 70, (1, 2)):
        engine, workflow = started(process, value)
        assert engine.dump(workflow) == "{}", value
    assert len(written) == 4


WITH_SUBPROCESS = """    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Inner"/>
    <bpmn:subProcess id="Inner">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:startEvent id="Inner_begin"><bpmn:outgoing>G1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="G1" sourceRef="Inner_begin" targetRef="Inner_calc"/>
      <bpmn:scriptTask id="Inner_calc"><bpmn:incoming>G1</bpmn:incoming><bpmn:outgoing>G2</bpmn:outgoing>
        <bpmn:script>total = amount * 3</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="G2" sourceRef="Inner_calc" targetRef="Inner_check"/>
      <bpmn:userTask id="Inner_check"><bpmn:incoming>G2</bpmn:incoming><bpmn:outgoing>G3</bpmn:outgoing></bpmn:userTask>
      <bpmn:sequenceFlow id="G3" sourceRef="Inner_check" targetRef="Inner_end"/>
      <bpmn:endEvent id="Inner_end"><bpmn:incoming>G3</bpmn:incoming></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="F2" sourceRef="Inner" targetRef="Finish"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>"""


def spiffworkflows_own_state(engine, workflow) -> dict:
    """The state as SpiffWorkflow's own converters write it (with Kontor's value converters)."""
    from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
    from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry._encoder_mode = True
    converter = BpmnWorkflowConverter(BpmnWorkflow, registry)
    dct = WorkflowConverter.to_dict(converter, workflow)
    dct["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
    dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
    dct["state_version"] = state_json.STATE_VERSION
    return json.loads(json.dumps(dct, cls=create_encoder(registry)))


@pytest.mark.parametrize("body", [WITH_TASKS, WITH_SUBPROCESS], ids=["tasks", "subprocess"])
def test_the_state_is_what_spiffworkflows_own_converters_write_and_reads_back_as_it(tmp_path, body):
    engine = ProcessEngine()
    process = engine.parse_bundle(bundle(tmp_path, body))["unit_process"]
    workflow = engine.start(process, {"amount": Decimal("2.5"), "who": "x"})
    for _ in range(3):
        state = engine.dump(workflow)
        assert json.loads(state) == spiffworkflows_own_state(engine, workflow)
        loaded = engine.load(state, process)
        assert json.loads(engine.dump(loaded)) == json.loads(state)
        ids = {task.id: task for task in loaded.get_tasks()}
        assert all(ids[child].parent is task for task in ids.values() for child in task._children)
        if loaded.completed:
            break
        waiting = engine.snapshot(loaded, process)
        if waiting.human_tasks:
            engine.complete_human_task(loaded, waiting.human_tasks[0].task_id, {"ok": True})
        else:
            engine.complete_service_task(loaded, waiting.service_jobs[0].task_id, {"booking_id": 7})
        workflow = loaded
    assert workflow.completed
