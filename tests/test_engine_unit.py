"""Unit tests of the engine adapter (runtime/engine.py), no database: spec errors, timer moments,
state round trips and service tasks that the engine never runs by itself."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from kernel.errors import SpecError
from runtime.engine import STATE_VERSION, ProcessEngine, ProcessError, resolve_moment

DEFINITIONS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Defs_unit" targetNamespace="http://kontor.example/bpmn">
  <bpmn:process id="unit_process" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>
"""
MINIMAL = """    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Finish"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F1</bpmn:incoming></bpmn:endEvent>"""
WITH_TASKS = """    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Calc"/>
    <bpmn:scriptTask id="Calc"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>total = amount * 2
deadline = date(2024, 2, 29)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Calc" targetRef="Check"/>
    <bpmn:userTask id="Check" name="Check the booking">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F3" sourceRef="Check" targetRef="Book"/>
    <bpmn:serviceTask id="Book" name="Book it">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="acct.book" resultVariable="booking">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="total" type="str" value="str(total)"/>
            <spiffworkflow:parameter id="note" type="str" value="'for ' + who"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="F4" sourceRef="Book" targetRef="Finish"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>"""


def bundle(tmp_path: Path, body: str, name: str = "unit/unit.bpmn") -> dict[str, bytes]:
    """Write the process to a file under tmp_path and read it back as a deployment bundle."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFINITIONS.format(body=body) if "<bpmn:definitions" not in body else body)
    return {name: path.read_bytes()}


def parse_error(tmp_path: Path, body: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        ProcessEngine().parse_bundle(bundle(tmp_path, body))
    error = caught.value
    assert error.status == 422 and error.code == "invalid_process_definition"
    assert error.extra == {"file": error.file, "element": error.element, "reason": error.reason}
    assert error.message == f"{error.file}: {error.element}: {error.reason}"
    return error


# ----------------------------------------------------------------- broken files
def test_the_minimal_fixture_parses(tmp_path):
    assert list(ProcessEngine().parse_bundle(bundle(tmp_path, MINIMAL))) == ["unit_process"]


def test_malformed_xml_names_file_and_line(tmp_path):
    broken = DEFINITIONS.format(body=MINIMAL).replace("</bpmn:process>", "</bpmn:proc>")
    error = parse_error(tmp_path, broken)
    assert error.file == "unit/unit.bpmn"
    expected_line = broken.splitlines().index("  </bpmn:proc>") + 1
    assert error.element == f"line {expected_line}"
    assert error.reason.startswith("XML does not parse:") and "proc" in error.reason


def test_element_the_schema_does_not_allow_is_refused(tmp_path):
    error = parse_error(tmp_path, MINIMAL + '\n    <bpmn:bogusElement id="Bogus"/>')
    assert error.file == "unit/unit.bpmn"
    assert error.element.endswith("(line 9)")  # the line of the unexpected element
    assert "bogusElement" in error.reason and "not expected" in error.reason


def test_attribute_the_schema_does_not_allow_is_refused(tmp_path):
    error = parse_error(tmp_path, MINIMAL.replace('<bpmn:endEvent id="Finish">',
                                                  '<bpmn:endEvent id="Finish" colour="red">'))
    assert error.file == "unit/unit.bpmn"
    assert "(line 8)" in error.element
    assert "colour" in error.reason and "not allowed" in error.reason


def test_sequence_flow_to_a_missing_element_names_the_source_and_the_target(tmp_path):
    error = parse_error(tmp_path, MINIMAL.replace('targetRef="Finish"', 'targetRef="Nowhere"'))
    assert error.file == "unit/unit.bpmn"
    assert error.element.startswith("sequenceFlow F1 (line ")
    assert error.reason == "its targetRef 'Nowhere' is no element of this file"


@pytest.mark.parametrize("reserved, tag", [("Start", "startEvent"), ("End", "endEvent"), ("Root", "sequenceFlow")])
def test_reserved_ids_are_refused(tmp_path, reserved, tag):
    renamed = {"startEvent": "Begin", "endEvent": "Finish", "sequenceFlow": "F1"}[tag]
    body = MINIMAL.replace(f'"{renamed}"', f'"{reserved}"').replace(f">{renamed}<", f">{reserved}<")
    error = parse_error(tmp_path, body)
    assert (error.file, error.element) == ("unit/unit.bpmn", f"{tag} {reserved}")
    assert repr(reserved) in error.reason and "reserved" in error.reason


def test_missing_form_schema_names_the_task(tmp_path):
    body = WITH_TASKS.replace('<bpmn:userTask id="Check" name="Check the booking">',
                              '<bpmn:userTask id="Check" name="Check the booking"><bpmn:extensionElements>'
                              '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                              'value="check.schema.json"/></spiffworkflow:properties></bpmn:extensionElements>')
    error = parse_error(tmp_path, body)
    assert error.element == "Check" and "'check.schema.json'" in error.reason


# ----------------------------------------------------------------- timer moments
NOW = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, expected", [
    ("PT1H", NOW + timedelta(hours=1)),
    (" PT30M ", NOW + timedelta(minutes=30)),
    ("PT0.5S", NOW + timedelta(seconds=0.5)),
    ("P1D", NOW + timedelta(days=1)),
    ("P1W", NOW + timedelta(weeks=1)),
    ("P1M", datetime(2024, 2, 15, 12, 0, tzinfo=timezone.utc)),        # January has 31 days
    ("P1Y2M3DT4H5M6S", datetime(2025, 3, 18, 16, 5, 6, tzinfo=timezone.utc)),
    ("2030-01-02T03:04:05+02:00", datetime(2030, 1, 2, 1, 4, 5, tzinfo=timezone.utc)),
    ("2030-01-02T03:04:05Z", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ("2030-01-02T03:04:05", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),  # naive text is UTC
    ("2030-01-02", datetime(2030, 1, 2, tzinfo=timezone.utc)),
    (datetime(2030, 1, 1, 5, 0), datetime(2030, 1, 1, 5, 0, tzinfo=timezone.utc)),
    (date(2030, 6, 30), datetime(2030, 6, 30, tzinfo=timezone.utc)),
    (None, None),
    ("", None),
])
def test_resolve_moment(value, expected):
    resolved = resolve_moment(value, NOW)
    assert resolved == expected
    if resolved is not None:
        assert resolved.utcoffset() == timedelta(0)


def test_resolve_moment_keeps_the_instant_of_an_aware_datetime():
    resolved = resolve_moment(datetime(2030, 1, 1, 5, 0, tzinfo=timezone(timedelta(hours=-3))), NOW)
    assert resolved == datetime(2030, 1, 1, 8, 0, tzinfo=timezone.utc)


def test_resolve_moment_counts_durations_from_the_current_time_by_default():
    before = datetime.now(timezone.utc)
    resolved = resolve_moment("PT2H")
    after = datetime.now(timezone.utc)
    assert before + timedelta(hours=2) <= resolved <= after + timedelta(hours=2)


@pytest.mark.parametrize("value", ["next tuesday", "P", "PTxH", "2030-13-45", "P99999999999Y"])
def test_resolve_moment_refuses_text_that_is_neither_duration_nor_date(value):
    with pytest.raises(ProcessError, match="neither an ISO 8601 date/time nor a duration"):
        resolve_moment(value, NOW)


def test_naive_date_text_is_utc_whatever_the_servers_zone(monkeypatch):
    import time
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert resolve_moment("2030-01-02T03:04:05", NOW) == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    finally:
        monkeypatch.undo()
        time.tzset()


# ----------------------------------------------------------------- state round trip and service tasks
@pytest.fixture
def process(tmp_path):
    return ProcessEngine().parse_bundle(bundle(tmp_path, WITH_TASKS))["unit_process"]


def test_dump_and_load_keep_decimal_and_date_values(process):
    engine = ProcessEngine()
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    workflow = engine.start(process, {"amount": Decimal("12.50"), "when": date(2024, 1, 2), "at": at, "who": "ann"})
    state = engine.dump(workflow)
    assert f'"state_version":"{STATE_VERSION}"' in state
    restored = engine.load(state, process)
    variables = engine.variables(restored)
    assert variables["amount"] == Decimal("12.50") and type(variables["amount"]) is Decimal
    assert variables["total"] == Decimal("25.00") and type(variables["total"]) is Decimal
    assert variables["when"] == date(2024, 1, 2) and type(variables["when"]) is date
    assert variables["deadline"] == date(2024, 2, 29) and type(variables["deadline"]) is date
    assert variables["at"] == at
    task = engine.snapshot(restored, process).human_tasks[0]
    assert (task.spec_name, task.title) == ("Check", "Check the booking")
    engine.complete_human_task(restored, task.task_id, {"checked_on": date(2024, 3, 1)})
    again = engine.load(engine.dump(restored), process)
    assert type(engine.variables(again)["checked_on"]) is date
    assert engine.variables(again)["total"] == Decimal("25.00")


def test_state_of_another_version_is_refused(process):
    engine = ProcessEngine()
    state = engine.dump(engine.start(process, {"amount": Decimal("1"), "who": "x"}))
    with pytest.raises(ProcessError, match="stored state has version"):
        engine.load(state.replace(STATE_VERSION, "kontor-0/spiff-0"), process)


def test_service_task_waits_for_a_job_instead_of_running(process):
    engine = ProcessEngine()
    workflow = engine.start(process, {"amount": Decimal("10.5"), "who": "bob"})
    engine.complete_human_task(workflow, engine.snapshot(workflow, process).human_tasks[0].task_id, {})
    engine.run(workflow)  # more engine steps do not run it either
    snapshot = engine.snapshot(workflow, process)
    assert not snapshot.completed and snapshot.human_tasks == []
    [job] = snapshot.service_jobs
    assert (job.spec_name, job.operation) == ("Book", "acct.book")
    assert job.params == {"total": "21.0", "note": "for bob"}
    assert workflow.get_task_from_id(UUID(job.task_id)).state == TaskState.READY
    assert "booking" not in engine.variables(workflow)
    forced = engine.load(engine.dump(workflow), process).get_task_from_id(UUID(job.task_id))
    with pytest.raises(WorkflowException, match="only be completed with a job result"):
        forced.run()  # on a copy: running it without a result is refused
    with pytest.raises(KeyError):
        engine.complete_human_task(workflow, job.task_id, {"booking": "forged"})
    restored = engine.load(engine.dump(workflow), process)  # the job survives a round trip
    assert [j.task_id for j in engine.snapshot(restored, process).service_jobs] == [job.task_id]
    engine.complete_service_task(restored, job.task_id, {"booking_id": 7})
    assert engine.snapshot(restored, process).completed
    assert engine.variables(restored)["booking"] == {"booking_id": 7}


def test_expressions_are_compiled_once_and_read_as_eval_reads_them():
    environment = ProcessEngine().script_engine.environment
    assert environment.evaluate(" \tamount > 1000", {"amount": 1500}) is True  # a modeler's leading blank
    assert environment.evaluate("amount > 1000", {"amount": 5}) is False  # same text, other data
    context = {"n": 2}
    environment.execute("m = n * 21", context)
    environment.execute("m = n * 21", context)
    assert context["m"] == 42
    with pytest.raises(SyntaxError):
        environment.evaluate("amount >", {"amount": 1})


def test_a_workflows_log_details_are_collected_only_when_they_are_logged(process, caplog):
    """SpiffWorkflow walks the whole task tree for them; Kontor only when `spiff.workflow` logs INFO."""
    engine = ProcessEngine()
    workflow = engine.start(process, {"amount": Decimal("1"), "who": "x"})
    assert workflow.collect_log_extras() == {}
    with caplog.at_level(logging.DEBUG, logger="spiff.workflow"):
        engine.start(process, {"amount": Decimal("1"), "who": "x"})
    [record] = [r for r in caplog.records if r.getMessage() == "Initialized workflow"]
    assert record.workflow_spec == "unit_process" and len(record.tasks) > 1


TITLED = """    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Check"/>
    <bpmn:userTask id="Check" name="Check the booking">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="title" value="{title}"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Check" targetRef="Finish"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>"""


@pytest.mark.parametrize("title, data, shown", [
    ("'Check booking ' + number + ' of ' + who", {"number": "B-7", "who": "ann"}, "Check booking B-7 of ann"),
    ("'Check booking ' + number", {"who": "ann"}, "Check the booking"),  # the data cannot give it: the name
    ("''", {}, "Check the booking"),
    ("'x' * 400", {}, "x" * 300),  # the index keeps 300 characters
    ("'a\u00a0b\\n c'", {}, "a b c"),  # one line
])
def test_a_title_expression_names_the_task_from_the_data_else_its_name(tmp_path, title, data, shown):
    engine = ProcessEngine()
    process = engine.parse_bundle(bundle(tmp_path, TITLED.format(title=title)))["unit_process"]
    [task] = engine.snapshot(engine.start(process, data), process).human_tasks
    assert task.title == shown
