"""How Kontor sets SpiffWorkflow up: its parser (with Kontor's service task), its script engine,
and the few places where SpiffWorkflow's behaviour or cost is corrected. Imported by the engine
adapter (runtime.engine), which is the only user of what is here."""
from __future__ import annotations

import functools
import inspect
import logging
import sys
import time

from SpiffWorkflow import task as spiff_task
from SpiffWorkflow import workflow as spiff_workflow
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.util.task import TaskIterator

from kernel.errors import ProcessError
from runtime.moments import parse_duration

RESULT_KEY = "kontor_service_result"


def _walk_the_whole_task_tree() -> None:
    """SpiffWorkflow's task iterators stop 1000 levels deep by default, and every round of a loop
    modelled with gateways adds levels to the task tree: after about 330 rounds such a loop would
    silently stall (its next ready task is never found). Kontor lets every walk reach the leaves."""
    for iterator in (TaskIterator, BpmnTaskIterator):
        with_defaults = [p.name for p in inspect.signature(iterator.__init__).parameters.values()
                         if p.default is not p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
        defaults = list(iterator.__init__.__defaults__)
        defaults[with_defaults.index("max_depth")] = sys.maxsize
        iterator.__init__.__defaults__ = tuple(defaults)


def _bound_timer_durations() -> None:
    """SpiffWorkflow counts a duration's months one by one (P99999999999Y would hang the worker) and
    reports a malformed one with a bare Exception: check the text first, so both become ProcessError."""
    original = TimerEventDefinition.parse_iso_duration

    def parse_iso_duration(expression):
        try:
            parse_duration(str(expression).strip())
        except ValueError as exc:
            raise ProcessError(f"timer duration {str(expression)[:80]!r}: {exc}") from None
        return original(expression)

    TimerEventDefinition.parse_iso_duration = staticmethod(parse_iso_duration)


def _log_state_changes_only_when_logged() -> None:
    """SpiffWorkflow builds a log record's details (names, ids, the task's data) on every change of
    a task's state, before the logger is asked whether it logs them at all: a tenth of a step's
    cost. Here they are built only when the `spiff.task` logger is on for INFO."""
    logged = spiff_task.Task._set_state

    def _set_state(self, value: int) -> None:
        if spiff_task.logger.isEnabledFor(logging.INFO):
            logged(self, value)
        elif value != self._state:
            self.last_state_change = time.time()
            self._state = value

    spiff_task.Task._set_state = _set_state


def _log_workflow_details_only_when_logged() -> None:
    """Likewise a workflow's log details: SpiffWorkflow lists the ids of all its tasks (a walk of
    the whole task tree) when a workflow starts and when it completes, whether or not the
    `spiff.workflow` logger logs them. Here they are collected only when it is on for INFO."""
    collect = spiff_workflow.Workflow.collect_log_extras

    def collect_log_extras(self, dct: dict | None = None) -> dict:
        if spiff_workflow.logger.isEnabledFor(logging.INFO):
            return collect(self, dct)
        return dct or {}

    spiff_workflow.Workflow.collect_log_extras = collect_log_extras


_walk_the_whole_task_tree()
_bound_timer_durations()
_log_state_changes_only_when_logged()
_log_workflow_details_only_when_logged()


class KontorServiceTask(ServiceTask):
    """A service task the engine never runs by itself: Kontor turns it into a service job and
    completes it with the job's result."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.manual = True

    def _execute(self, task):
        if RESULT_KEY not in task.internal_data:
            raise WorkflowException("a service task may only be completed with a job result", task_spec=self)
        task.data[self.result_variable] = task.internal_data.pop(RESULT_KEY)
        return True


@functools.lru_cache(maxsize=4096)
def _compiled(text: str, mode: str):
    if mode == "eval":
        text = text.lstrip(" \t")  # as eval() of a text does: a condition may start with a blank
    return compile(text, "<string>", mode)  # "<string>": SpiffWorkflow finds a script's error line by it


class CompilingEnvironment(TaskDataEnvironment):
    """SpiffWorkflow compiles an expression's text each time it runs it (and DMN tables on every
    evaluation): here each text is compiled once."""

    def evaluate(self, expression, context, external_context=None):
        return super().evaluate(_compiled(expression, "eval") if isinstance(expression, str) else expression,
                                context, external_context)

    def execute(self, script, context, external_context=None):
        return super().execute(_compiled(script, "exec") if isinstance(script, str) else script,
                               context, external_context)


class ScriptEngine(PythonScriptEngine):
    """Validates each text once. A DMN cell such as `< 1000` is validated on every evaluation and
    does not parse alone (SpiffWorkflow then tries it with a variable in front): its SyntaxError
    is remembered and raised again, not found again."""

    def __init__(self, environment=None):
        super().__init__(environment)
        self._validated: dict[str, SyntaxError | None] = {}

    def validate(self, expression):
        try:
            error = self._validated[expression]
        except KeyError:
            try:
                super().validate(expression)
                error = None
            except SyntaxError as exc:
                error = exc
            if len(self._validated) < 4096:  # texts come from deployed specs; a bound all the same
                self._validated[expression] = error
        if error is not None:
            raise SyntaxError(*error.args)


class Parser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, KontorServiceTask),
    }
