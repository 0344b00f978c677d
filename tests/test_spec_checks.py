"""Checks Kontor adds to SpiffWorkflow's parser at deploy time."""
from pathlib import Path

import pytest

from kernel.errors import SpecError
from runtime.engine import ProcessEngine

TIMER_KINDS = (Path(__file__).parent / "bpmn" / "timer_kinds.bpmn").read_text()


@pytest.mark.parametrize("reserved", ["Start", "End", "Root"])
def test_element_ids_the_engine_uses_itself_are_refused_with_file_and_element(reserved):
    broken = TIMER_KINDS.replace('"StartEvent_kinds"', f'"{reserved}"')
    with pytest.raises(SpecError) as caught:
        ProcessEngine().parse_bundle({"sales/timer_kinds.bpmn": broken.encode()})
    assert caught.value.file == "sales/timer_kinds.bpmn"
    assert caught.value.element == f"startEvent {reserved}"
    assert "reserved" in caught.value.reason


def test_the_unchanged_file_parses():
    assert list(ProcessEngine().parse_bundle({"timer_kinds.bpmn": TIMER_KINDS.encode()})) == ["test_timer_kinds"]
