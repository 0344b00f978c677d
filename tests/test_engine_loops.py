"""Loops in the engine (no database): a loop drawn with gateways runs past SpiffWorkflow's default
task-tree walk depth, and a loop task runs its full count."""
from __future__ import annotations

from pathlib import Path

import pytest

from runtime.engine import ProcessEngine

BENCH_BPMN = Path(__file__).resolve().parent.parent / "bench" / "bpmn"


@pytest.fixture(scope="module")
def specs():
    return ProcessEngine().parse_bundle({p.name: p.read_bytes() for p in BENCH_BPMN.glob("*_loop.bpmn")})


def test_gateway_loop_runs_past_the_default_tree_depth(specs):
    # each round adds three levels; the default walk (1000 levels) would stall after round 333
    engine = ProcessEngine()
    workflow = engine.start(specs["bench_gateway_loop"], {"iterations": 340})
    assert engine.variables(workflow)["i"] == 340
    assert engine.snapshot(workflow, specs["bench_gateway_loop"]).completed


def test_loop_task_runs_its_count_and_survives_a_round_trip(specs):
    engine = ProcessEngine()
    workflow = engine.start(specs["bench_loop"], {"iterations": 25})
    assert engine.variables(workflow)["i"] == 25
    restored = engine.load(engine.dump(workflow), specs["bench_loop"])
    assert engine.snapshot(restored, specs["bench_loop"]).completed
