"""Guards only guard; completions record. A human task's `guard` is asked on claim, delegation and
completion and changes nothing; its `completion` runs only when it is completed, right after the
guard passed, and what it returns reaches the process. A model that names no completion (deployed
before the two were apart) runs the completion that took over its guard's recording; `value=""`
names none. SQLite and PostgreSQL (the processes are deployed from tmp_path under their own keys)."""
from __future__ import annotations

import uuid

import pytest

from kernel.errors import Forbidden
from runtime.models import ProcessInstance
from runtime.runtime import TaskCompletions, TaskGuards
from tests.support import ok
from tests.test_deployment_versions import deploy_folders

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Defs_{key}" targetNamespace="http://kontor.example/bpmn">
  <bpmn:process id="{key}" name="Completion {key}" isExecutable="true">
    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Task_decide"/>
    <bpmn:userTask id="Task_decide" name="Decide">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="candidateGroups" value="sales"/>
          <spiffworkflow:property name="guard" value="{guard}"/>{completion}
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_decide" targetRef="Finish"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def world(kontor, tmp_path):
    """Three processes: one naming its completion, one naming none (an old model), one naming it
    empty; a guard that refuses the decision "refuse" and a completion that notes its calls."""
    tag = uuid.uuid4().hex[:10]
    guard_name, completion_name = f"test.guard_{tag}", f"test.record_{tag}"
    calls: list[tuple] = []

    def guard(session, who, task, variables, action, data):
        calls.append(("guard", action))
        if action == "complete" and data.get("decision") == "refuse":
            raise Forbidden("the guard refuses this decision")

    def completion(session, who, task, variables, data):
        calls.append(("completion", data.get("decision")))
        return {"recorded_by": who.username}

    kontor.runtime.guards.register(guard_name, guard)
    kontor.runtime.completions.register(completion_name, completion, formerly_in_guard=guard_name)
    folder = tmp_path / "processes"
    folder.mkdir()
    keys = {}
    property_line = '\n          <spiffworkflow:property name="completion" value="{}"/>'
    for flavour, line in (("named", property_line.format(completion_name)), ("old", ""),
                          ("none", property_line.format(""))):
        keys[flavour] = f"test_completion_{flavour}_{tag}"
        (folder / f"{keys[flavour]}.bpmn").write_text(PROCESS.format(key=keys[flavour], guard=guard_name,
                                                                     completion=line))
    deployed = deploy_folders(kontor, tmp_path, folder)
    assert all((key, 1) in deployed for key in keys.values())
    return keys, calls


def start(api, key: str) -> tuple[int, int]:
    started = ok(api.post("/process-instances", {"process": key, "data": {}}, user="sam"), 201)
    return started["id"], started["tasks"][0]["id"]


def variables(kontor, instance_id: int) -> dict:
    with kontor.transaction() as session:
        return dict(session.get(ProcessInstance, instance_id).variables or {})


def test_claim_runs_only_the_guard_and_completion_runs_the_named_completion_after_it(kontor, api, world):
    keys, calls = world
    instance_id, task_id = start(api, keys["named"])
    ok(api.post(f"/tasks/{task_id}/claim", user="sam"))
    assert calls == [("guard", "claim")]
    ok(api.post(f"/tasks/{task_id}/complete", {"data": {"decision": "yes"}}, user="sam"))
    assert calls == [("guard", "claim"), ("guard", "complete"), ("completion", "yes")]
    assert variables(kontor, instance_id)["recorded_by"] == "sam"  # what the completion returned reached the process


def test_a_refusing_guard_keeps_the_completion_from_running(kontor, api, world):
    keys, calls = world
    _, task_id = start(api, keys["named"])
    refused = api.post(f"/tasks/{task_id}/complete", {"data": {"decision": "refuse"}}, user="sam")
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "the guard refuses this decision"
    assert calls == [("guard", "complete")]


def test_an_old_model_runs_the_completion_that_took_over_its_guard(kontor, api, world):
    keys, calls = world
    instance_id, task_id = start(api, keys["old"])
    ok(api.post(f"/tasks/{task_id}/complete", {"data": {"decision": "yes"}}, user="sam"))
    assert calls == [("guard", "complete"), ("completion", "yes")]
    assert variables(kontor, instance_id)["recorded_by"] == "sam"


def test_an_empty_completion_names_none(kontor, api, world):
    keys, calls = world
    instance_id, task_id = start(api, keys["none"])
    ok(api.post(f"/tasks/{task_id}/complete", {"data": {"decision": "yes"}}, user="sam"))
    assert calls == [("guard", "complete")]
    assert "recorded_by" not in variables(kontor, instance_id)


def test_a_guard_that_returns_data_is_an_error_and_unknown_names_are_looked_up_loudly():
    guards, completions = TaskGuards(), TaskCompletions()
    guards.register("talks", lambda *args: {"facts": 1})
    with pytest.raises(TypeError, match="only checks"):
        guards.check("talks", None)
    with pytest.raises(LookupError):
        guards.check("missing", None)
    with pytest.raises(LookupError):
        completions.run("missing", None)
    assert completions.run(None, None) == {} and guards.check(None) is None
    completions.register("new", lambda *args: None, formerly_in_guard="old_guard")
    assert completions.name_for("named", "old_guard") == "named"
    assert completions.name_for("", "old_guard") is None
    assert completions.name_for(None, "old_guard") == "new"
    assert completions.name_for(None, "other") is None and completions.name_for(None, None) is None
