"""How fast this machine is just now: the 6-step reference process (six_steps.bpmn) run by
SpiffWorkflow alone, nothing of Kontor imported (Kontor corrects some of SpiffWorkflow's costs,
which would make the reference faster than the one the target was set against), with its own
parser, script engine and serializer and a JSON save and load at its wait. Prints the rate as
JSON. Run by bench/runtime_bench.py in a process of its own:

    python bench/reference/reference_speed.py [instances]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState


def rate(instances: int) -> float:
    parser = BpmnParser()
    parser.add_bpmn_file(str(Path(__file__).with_name("six_steps.bpmn")))
    spec, serializer = parser.get_spec("reference_six_steps"), BpmnWorkflowSerializer()
    started = time.perf_counter()
    for n in range(instances):
        workflow = BpmnWorkflow(spec)
        workflow.task_tree.data["amount"] = n
        workflow.do_engine_steps()
        workflow = serializer.deserialize_json(serializer.serialize_json(workflow))  # the wait
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.run()
        workflow.do_engine_steps()
        if not workflow.completed:
            raise RuntimeError("the reference instance did not complete")
    return instances / (time.perf_counter() - started)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rate(min(200, count))  # warm up: parsing, first imports
    print(json.dumps({"instances": count, "instances_per_s": round(rate(count), 1)}))
