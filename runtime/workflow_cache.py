"""Workflows of recently saved instances, kept in memory between their steps.

Turning the stored JSON back into a SpiffWorkflow object costs about as much as the step it
serves. An instance whose step just committed is usually stepped again soon by the same
process (its service job, a message, a timer), so the object is kept, together with the exact
state text it was saved as. It is reused only when the row read in the next transaction holds
that very text, so any change by another process, a rolled-back step or a reused id simply
misses the cache. An entry is taken out while a step uses it, and goes back only after that
step's transaction commits: a failed step never leaves a half-run workflow behind.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

if TYPE_CHECKING:
    from runtime.engine import Workflow
    from runtime.wait_index import Waiting

_SAVED = "kontor_saved_workflows"
Entry = tuple[int, str, "Workflow", "Waiting"]  # definition id, state text, the workflow, what it waits for


class WorkflowCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, definition_id: int, state: str) -> tuple[Workflow, Waiting] | None:
        """(workflow, what it waits for) if the cache holds exactly this state; else None."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
        if entry is None or entry[0] != definition_id or entry[1] != state:
            return None
        return entry[2], entry[3]

    def keep_after_commit(self, session: Session, instance_id: int, definition_id: int, state: str, workflow: Workflow,
                          waiting: Waiting) -> None:
        """Offer the workflow as saved in this transaction; it is kept once the transaction commits."""
        if self.size > 0:
            session.info.setdefault(_SAVED, {})[instance_id] = (self, (definition_id, state, workflow, waiting))

    def _put(self, instance_id: int, entry: Entry) -> None:
        with self._lock:
            self._entries[instance_id] = entry
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    root = session.get_transaction()
    if root is not None and root.is_active:
        return  # a savepoint was released; the transaction itself may still roll back
    for instance_id, (cache, entry) in session.info.pop(_SAVED, {}).items():
        cache._put(instance_id, entry)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, _previous_transaction: SessionTransaction) -> None:
    session.info.pop(_SAVED, None)  # (also for a savepoint: the state compare guards what is kept)
