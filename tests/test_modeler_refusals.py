"""Constructs of other modelers that Kontor cannot honour are refused at deploy, naming the file,
the element and the reason; what it can honour deploys."""
from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import SpecError
from runtime.deployment import deploy
from runtime.engine import ProcessEngine

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="Defs" targetNamespace="http://kontor.example/bpmn">
  <bpmn:message id="Msg" name="refusal_msg"/>
  <bpmn:signal id="Sig" name="refusal_signal"/>
  {extra}
  <bpmn:process id="refusal_process" isExecutable="true">
    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="X"/>
    {element}
    <bpmn:sequenceFlow id="F2" sourceRef="X" targetRef="Finish"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
IO = "<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>"


def catch(definition: str, extension: str = "") -> str:
    return f'<bpmn:intermediateCatchEvent id="X">{extension}{IO}{definition}</bpmn:intermediateCatchEvent>'


def user_task(attributes: str) -> str:
    return f'<bpmn:userTask id="X" {attributes}>{IO}</bpmn:userTask>'


def model(element: str, extra: str = "") -> str:
    return HEAD.format(element=element, extra=extra)


def refusal(text: str, **files: bytes) -> SpecError:
    with pytest.raises(SpecError) as caught:
        ProcessEngine().parse_bundle({"models/refused.bpmn": text.encode(), **files})
    assert caught.value.file == "models/refused.bpmn"
    return caught.value


REFUSED = {
    "uncorrelated message catch": (catch('<bpmn:messageEventDefinition id="D" messageRef="Msg"/>'),
                                   "intermediateCatchEvent X", "nothing to correlate"),
    "uncorrelated receive task": ('<bpmn:receiveTask id="X" messageRef="Msg">' + IO + '</bpmn:receiveTask>',
                                  "receiveTask X", "nothing to correlate"),
    "uncorrelated boundary message": ('<bpmn:userTask id="X">' + IO + '</bpmn:userTask><bpmn:boundaryEvent id="B" '
                                      'attachedToRef="X"><bpmn:outgoing>F9</bpmn:outgoing><bpmn:messageEventDefinition'
                                      ' id="D" messageRef="Msg"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="F9" '
                                      'sourceRef="B" targetRef="E9"/><bpmn:endEvent id="E9"><bpmn:incoming>F9'
                                      '</bpmn:incoming></bpmn:endEvent>', "boundaryEvent B", "nothing to correlate"),
    "receive task without a message": ('<bpmn:receiveTask id="X">' + IO + '</bpmn:receiveTask>',
                                       "receiveTask X", "must name the message"),
    "timer on a receive task": ('<bpmn:receiveTask id="X">' + IO + '<bpmn:timerEventDefinition id="D">'
                                '<bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>'
                                '</bpmn:receiveTask>', "receiveTask X", "waits for a message only"),
    "signal catch": (catch('<bpmn:signalEventDefinition id="D" signalRef="Sig"/>'),
                     "intermediateCatchEvent X", "signals are not supported"),
    "conditional catch": (catch('<bpmn:conditionalEventDefinition id="D"><bpmn:condition xsi:type='
                                '"bpmn:tFormalExpression">ready</bpmn:condition></bpmn:conditionalEventDefinition>'),
                          "intermediateCatchEvent X", "conditional events are not supported"),
    "link event": (catch('<bpmn:linkEventDefinition id="D" name="jump"/>'), "intermediateCatchEvent X",
                   "link events are not supported"),
    "compensation": ('<bpmn:intermediateThrowEvent id="X">' + IO + '<bpmn:compensateEventDefinition id="D"/>'
                     '</bpmn:intermediateThrowEvent>', "intermediateThrowEvent X", "compensation"),
    "message throw": ('<bpmn:intermediateThrowEvent id="X">' + IO + '<bpmn:messageEventDefinition id="D" '
                      'messageRef="Msg"/></bpmn:intermediateThrowEvent>', "intermediateThrowEvent X",
                      "would reach no other instance"),
    "send task": ('<bpmn:sendTask id="X" messageRef="Msg">' + IO + '</bpmn:sendTask>', "sendTask X",
                  "would reach no other instance"),
    "javascript script": ('<bpmn:scriptTask id="X" scriptFormat="javascript">' + IO +
                          '<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>', "scriptTask X", "'javascript'"),
    "JUEL timer": (catch('<bpmn:timerEventDefinition id="D"><bpmn:timeDuration>${dateTime().plusDays(1)}'
                         '</bpmn:timeDuration></bpmn:timerEventDefinition>'), "intermediateCatchEvent X",
                   "cannot be evaluated"),
    "timer neither literal nor expression": (catch('<bpmn:timerEventDefinition id="D"><bpmn:timeDuration>'
                                                   'every 5 minutes</bpmn:timeDuration></bpmn:timerEventDefinition>'),
                                             "intermediateCatchEvent X", "neither an ISO 8601 duration"),
    "malformed literal cycle": (catch('<bpmn:timerEventDefinition id="D"><bpmn:timeCycle>R3/PT10X'
                                      '</bpmn:timeCycle></bpmn:timerEventDefinition>'),
                                "intermediateCatchEvent X", "neither an ISO 8601 cycle"),
    "camunda cron cycle": (catch('<bpmn:timerEventDefinition id="D"><bpmn:timeCycle>0 0 9 * * ?'
                                 '</bpmn:timeCycle></bpmn:timerEventDefinition>'),
                           "intermediateCatchEvent X", "neither an ISO 8601 cycle"),
    "camunda delegate class": ('<bpmn:serviceTask id="X" camunda:class="org.example.Pay">' + IO +
                               '</bpmn:serviceTask>', "serviceTask X", "camunda:class"),
    "camunda task listener": ('<bpmn:userTask id="X"><bpmn:extensionElements><camunda:taskListener '
                              'class="org.example.L" event="create"/></bpmn:extensionElements>' + IO +
                              '</bpmn:userTask>', "userTask X", "camunda:taskListener"),
    "JUEL candidate groups": (user_task('camunda:candidateGroups="${groups.split(\',\')}"'), "userTask X",
                              "camunda:candidateGroups"),
    "form key of no schema": (user_task('camunda:formKey="embedded:app:forms/assess.html"'), "userTask X",
                              "names no JSON schema file"),
    "priority not a number": (user_task('camunda:priority="high"'), "userTask X", "not a whole number"),
    "due date not a date": (user_task('camunda:dueDate="tomorrow"'), "userTask X", "camunda:dueDate"),
    "JUEL condition": ('<bpmn:exclusiveGateway id="X" default="F2">' + IO + '<bpmn:outgoing>F3</bpmn:outgoing>'
                       '</bpmn:exclusiveGateway><bpmn:sequenceFlow id="F3" sourceRef="X" targetRef="Finish">'
                       '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${amount &gt; 1000}'
                       '</bpmn:conditionExpression></bpmn:sequenceFlow>', "sequenceFlow F3", "cannot be evaluated"),
    "feel condition language": ('<bpmn:exclusiveGateway id="X" default="F2">' + IO +
                                '<bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway><bpmn:sequenceFlow '
                                'id="F3" sourceRef="X" targetRef="Finish"><bpmn:conditionExpression language="feel" '
                                'xsi:type="bpmn:tFormalExpression">amount &gt; 1000</bpmn:conditionExpression>'
                                '</bpmn:sequenceFlow>', "sequenceFlow F3", "'feel'"),
    "event-based gateway": ('<bpmn:eventBasedGateway id="X">' + IO + '</bpmn:eventBasedGateway>',
                            "eventBasedGateway X", "event-based gateways are not supported"),
}


REFUSED["timer start event"] = (
    user_task(""), "startEvent Begin", "a timer start event would start nothing by itself")
STARTS = {"timer start event": '<bpmn:timerEventDefinition id="T"><bpmn:timeCycle>R/P1D</bpmn:timeCycle>'
                               '</bpmn:timerEventDefinition>'}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_construct_kontor_cannot_honour_is_refused_with_element_and_reason(case):
    element, where, reason = REFUSED[case]
    text = model(element)
    if case in STARTS:
        text = text.replace('<bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>',
                            f'<bpmn:outgoing>F1</bpmn:outgoing>{STARTS[case]}</bpmn:startEvent>')
    error = refusal(text)
    assert where in error.element, error
    assert reason in error.reason, error


CORRELATED = '''<bpmn:collaboration id="Collab"><bpmn:participant id="P" processRef="refusal_process"/>
  <bpmn:correlationKey name="key" id="Key"><bpmn:correlationPropertyRef>order</bpmn:correlationPropertyRef>
  </bpmn:correlationKey></bpmn:collaboration>
  <bpmn:correlationProperty id="order" name="order"><bpmn:correlationPropertyRetrievalExpression messageRef="Msg">
  <bpmn:formalExpression>order_number</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>'''


def test_a_message_correlated_two_ways_in_one_deployment_is_refused():
    own = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="correlation" '
           'value="order_number"/></spiffworkflow:properties></bpmn:extensionElements>')
    first = model(catch('<bpmn:messageEventDefinition id="D" messageRef="Msg"/>'), CORRELATED)
    second = model(catch('<bpmn:messageEventDefinition id="D" messageRef="Msg2"/>', own),
                   '<bpmn:message id="Msg2" name="refusal_msg"/>').replace("refusal_process", "refusal_other")
    error = refusal(first, **{"models/other.bpmn": second.encode()})
    assert "correlated otherwise" in error.reason


def test_a_message_that_would_start_two_processes_is_refused():
    starting = model(user_task("")).replace(
        '<bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>',
        '<bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing>'
        '<bpmn:messageEventDefinition id="StartMsg" messageRef="Msg"/></bpmn:startEvent>')
    error = refusal(starting, **{"models/other.bpmn": starting.replace("refusal_process", "refusal_other").encode()})
    assert error.element == "startEvent Begin" and "starts process" in error.reason


def test_what_kontor_honours_deploys():
    correlated = model(catch('<bpmn:messageEventDefinition id="D" messageRef="Msg"/>'), CORRELATED)
    message_start = model(catch('<bpmn:timerEventDefinition id="D"><bpmn:timeDate>2026-12-24T10:00:00Z'
                                '</bpmn:timeDate></bpmn:timerEventDefinition>')).replace(
        '<bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>',
        '<bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing>'
        '<bpmn:messageEventDefinition id="StartMsg" messageRef="Msg"/></bpmn:startEvent>')  # needs no correlation
    for text in (correlated, message_start,
                 model('<bpmn:scriptTask id="X" scriptFormat="python">' + IO + '<bpmn:script>x = 1</bpmn:script>'
                       '</bpmn:scriptTask>'),
                 model(user_task('camunda:candidateGroups="${groups}" camunda:assignee="anna" '
                                 'camunda:dueDate="${due}" camunda:asyncBefore="true"'))):
        specs = ProcessEngine().parse_bundle({"ok.bpmn": text.encode()})
        assert list(specs) == ["refusal_process"]
    assert specs["refusal_process"].spec.task_specs["X"].extensions["properties"] == {
        "candidateGroupsExpression": "groups", "assignee": "'anna'", "dueDate": "due"}


def test_kontors_own_properties_win_over_camunda_attributes():
    task = ('<bpmn:userTask id="X" camunda:candidateGroups="ops" camunda:priority="10"><bpmn:extensionElements>'
            '<spiffworkflow:properties><spiffworkflow:property name="candidateGroups" value="sales"/>'
            '</spiffworkflow:properties></bpmn:extensionElements>' + IO + '</bpmn:userTask>')
    specs = ProcessEngine().parse_bundle({"ok.bpmn": model(task).encode()})
    assert specs["refusal_process"].spec.task_specs["X"].extensions["properties"] == {
        "candidateGroups": "sales", "priority": "10"}


def test_deploy_refuses_the_folder_and_registers_nothing(kontor, tmp_path: Path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "refused.bpmn").write_text(model(catch('<bpmn:messageEventDefinition id="D" messageRef="Msg"/>')))
    with pytest.raises(SpecError) as caught, kontor.transaction() as session:
        deploy(session, kontor.runtime, [folder])
    assert caught.value.file == "refused.bpmn" and "X" in caught.value.element
    with kontor.transaction() as session:
        from runtime.models import ProcessDefinition
        assert session.query(ProcessDefinition).filter_by(process_key="refusal_process").count() == 0


ESCALATION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="http://x">
  <bpmn:escalation id="Esc" name="too_big" escalationCode="BIG"/>
  <bpmn:process id="escalating" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Sub"/>
    <bpmn:subProcess id="Sub"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:startEvent id="SS"><bpmn:outgoing>G1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="G1" sourceRef="SS" targetRef="SE"/>
      <bpmn:endEvent id="SE"><bpmn:incoming>G1</bpmn:incoming>
        <bpmn:escalationEventDefinition id="ED" escalationRef="Esc"/></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="B" attachedToRef="Sub"><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:escalationEventDefinition id="BD" escalationRef="Esc"/></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="Escalated"/>
    <bpmn:userTask id="Escalated"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="F4" sourceRef="Escalated" targetRef="E2"/>
    <bpmn:endEvent id="E2"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F2" sourceRef="Sub" targetRef="E"/>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def test_an_escalation_within_one_instance_is_caught_by_its_boundary_event():
    engine = ProcessEngine()
    spec = engine.parse_bundle({"escalating.bpmn": ESCALATION.encode()})["escalating"]
    workflow = engine.start(spec, {})
    snapshot = engine.snapshot(workflow, spec)
    assert not snapshot.completed and [task.spec_name for task in snapshot.human_tasks] == ["Escalated"]


def test_a_model_may_not_start_on_a_message_of_kontors_own_records(kontor, tmp_path: Path):
    """`offer_reply` comes from the customer's link or mail reply to the offer's own process: another
    model starting on it would swallow an answer that process is not waiting for."""
    folder = tmp_path / "models"
    folder.mkdir()
    text = (Path(__file__).parent / "bpmn" / "message_start.bpmn").read_text()
    (folder / "reply_start.bpmn").write_text(text.replace('name="test_order_received"', 'name="offer_reply"')
                                             .replace('id="test_message_start"', 'id="reply_start"'))
    with pytest.raises(SpecError) as caught, kontor.transaction() as session:
        deploy(session, kontor.runtime, [folder])
    assert "offer_reply" in caught.value.reason and "reply_start" in caught.value.element
