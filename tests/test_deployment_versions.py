"""Deployment versions on SQLite and PostgreSQL: unchanged files make no new version, a changed file
makes the next one while running instances keep theirs, and extra folders come from the settings.
Each test deploys its own process (a unique id) from a folder under tmp_path with a Kontor of its own
on the test database, so the shared processes and the other tests are not touched."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kernel.errors import SpecError
from kontor.bootstrap import bootstrap
from kontor.settings import REPO_ROOT, Settings
from runtime.deployment import deploy
from runtime.models import Deployment, ProcessDefinition

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Defs_{key}" targetNamespace="http://kontor.example/bpmn">
  <bpmn:process id="{key}" name="Versioned {flavour}" isExecutable="true">
    <bpmn:startEvent id="Begin"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Task_check"/>
    <bpmn:userTask id="Task_check" name="Check ({flavour})">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="candidateGroups" value="sales"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_check" targetRef="Task_mark"/>
    <bpmn:scriptTask id="Task_mark"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:script>flavour = '{flavour}'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="F3" sourceRef="Task_mark" targetRef="Finish"/>
    <bpmn:endEvent id="Finish"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def key() -> str:
    return f"test_versioned_{uuid.uuid4().hex[:12]}"


def write_process(folder: Path, key: str, flavour: str, name: str | None = None) -> Path:
    path = folder / (name or f"{key}.bpmn")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PROCESS.format(key=key, flavour=flavour))
    return path


def deploy_folders(kontor, tmp_path: Path, *folders: Path) -> list[tuple[str, int]]:
    """Bootstrap a Kontor of its own on the test database with these extra folders; its deployed versions."""
    settings = Settings(database_url=kontor.settings.database_url, data_dir=tmp_path / "data",
                        secret_key="deploy-secret-" + "z" * 20, bpmn_path=list(folders))
    other = bootstrap(settings)
    try:
        return other.deployed
    finally:
        other.dispose()


def definitions(kontor, key: str) -> list[tuple[int, bool, str]]:
    with kontor.transaction() as session:
        rows = session.execute(select(ProcessDefinition.version, ProcessDefinition.is_latest,
                                      ProcessDefinition.source_file)
                               .where(ProcessDefinition.process_key == key).order_by(ProcessDefinition.version))
        return [tuple(row) for row in rows]


def count_deployments(kontor) -> int:
    with kontor.transaction() as session:
        return session.scalar(select(func.count()).select_from(Deployment))


def test_deploying_the_same_files_twice_creates_no_new_version(kontor, tmp_path, key):
    folder = tmp_path / "processes"
    write_process(folder, key, "one")
    first = deploy_folders(kontor, tmp_path, folder)
    assert (key, 1) in first
    deployments = count_deployments(kontor)
    second = deploy_folders(kontor, tmp_path, folder)
    assert sorted(second) == sorted(first)
    assert ("demo_request", 1) in second  # the built-in process keeps its version too
    assert count_deployments(kontor) == deployments
    assert definitions(kontor, key) == [(1, True, f"{key}.bpmn")]


def test_a_changed_file_makes_version_2_and_a_running_instance_stays_on_version_1(kontor, api, tmp_path, key):
    folder = tmp_path / "processes"
    write_process(folder, key, "one")
    assert (key, 1) in deploy_folders(kontor, tmp_path, folder)
    old = api.post("/process-instances", {"process": key, "data": {"n": 1}}, user="sam")
    assert old.status_code == 201, old.text
    old = old.json()
    assert old["version"] == 1 and [t["title"] for t in old["tasks"]] == ["Check (one)"]

    write_process(folder, key, "two")
    deployed = deploy_folders(kontor, tmp_path, folder)
    assert (key, 2) in deployed and (key, 1) not in deployed
    assert definitions(kontor, key) == [(1, False, f"{key}.bpmn"), (2, True, f"{key}.bpmn")]
    listed = api.get("/process-definitions", params={"all_versions": True}, user="sam").json()
    assert [(d["version"], d["is_latest"]) for d in listed if d["process_key"] == key] == [(2, True), (1, False)]
    latest = api.get("/process-definitions", user="sam").json()
    assert [d["version"] for d in latest if d["process_key"] == key] == [2]

    new = api.post("/process-instances", {"process": key, "data": {"n": 2}}, user="sam").json()
    assert new["version"] == 2 and [t["title"] for t in new["tasks"]] == ["Check (two)"]
    assert api.instance(old["id"])["version"] == 1

    for instance, flavour in ((old, "one"), (new, "two")):  # each runs to its end on its own version
        done = api.post(f"/tasks/{instance['tasks'][0]['id']}/complete", {"data": {"ok": True}}, user="sam")
        assert done.status_code == 200, done.text
        finished = api.instance(instance["id"])
        assert finished["status"] == "completed" and finished["version"] == instance["version"]
        assert finished["variables"]["flavour"] == flavour


def test_going_back_to_an_earlier_file_makes_that_version_the_latest_again(kontor, tmp_path, key):
    folder = tmp_path / "processes"
    write_process(folder, key, "one")
    deploy_folders(kontor, tmp_path, folder)
    write_process(folder, key, "two")
    deploy_folders(kontor, tmp_path, folder)
    write_process(folder, key, "one")
    assert (key, 1) in deploy_folders(kontor, tmp_path, folder)
    assert [(v, latest) for v, latest, _ in definitions(kontor, key)] == [(1, True), (2, False)]


def test_a_process_in_an_extra_folder_is_deployed(kontor, tmp_path, key):
    folder = tmp_path / "extra"
    write_process(folder, key, "nested", name=f"sales/{key}.bpmn")
    deployed = deploy_folders(kontor, tmp_path, folder)
    assert (key, 1) in deployed
    assert definitions(kontor, key) == [(1, True, f"sales/{key}.bpmn")]
    with kontor.transaction() as session:
        deployment = session.scalar(select(Deployment).join(ProcessDefinition,
                                                            ProcessDefinition.deployment_id == Deployment.id)
                                    .where(ProcessDefinition.process_key == key))
        assert f"sales/{key}.bpmn" in deployment.files and "demo_request.bpmn" in deployment.files


def test_bpmn_path_text_splits_into_folders_and_each_is_deployed(kontor, tmp_path, key):
    first, second = tmp_path / "a", tmp_path / "b"
    write_process(first, f"{key}_a", "a")
    write_process(second, f"{key}_b", "b")
    settings = Settings(bpmn_path=f"{first}:{second}", secret_key="s" * 20)
    assert settings.bpmn_path == [first, second]
    assert settings.bpmn_dirs == [REPO_ROOT / "bpmn", first, second]
    assert Settings(bpmn_path="a:b", secret_key="s" * 20).bpmn_path == [Path("a"), Path("b")]
    assert Settings(bpmn_path="", secret_key="s" * 20).bpmn_path == []
    deployed = deploy_folders(kontor, tmp_path, *settings.bpmn_path)
    assert {(f"{key}_a", 1), (f"{key}_b", 1)} <= set(deployed)


def test_the_same_file_name_in_two_folders_is_refused(kontor, tmp_path, key):
    write_process(tmp_path / "a", key, "a", name="same.bpmn")
    write_process(tmp_path / "b", f"{key}_b", "b", name="same.bpmn")
    with pytest.raises(SpecError) as caught, kontor.transaction() as session:
        deploy(session, kontor.runtime, [tmp_path / "a", tmp_path / "b"])
    assert caught.value.file == str(tmp_path / "b" / "same.bpmn") and "'same.bpmn'" in caught.value.reason
    assert definitions(kontor, key) == [] and definitions(kontor, f"{key}_b") == []
