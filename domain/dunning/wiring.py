"""What the dunning module registers at start-up: the service tasks, guards, completions and task
view of the dunning process, that settled invoices are announced before each commit, and that dunning cases
take documents (their letters' PDFs, read by accounting and managers only)."""
from __future__ import annotations

from domain.dunning import cases, operations, queries, settlement
from domain.dunning.models import Dunning


def register(kontor) -> None:
    runtime = kontor.runtime
    operations.register(runtime.operations, kontor)
    runtime.guards.register("dunning.accounting", cases.guard_accounting)
    runtime.completions.register("dunning.record_dispute", cases.record_dispute)
    runtime.completions.register("dunning.record_handover", cases.record_handover)
    runtime.register_task_view(cases.PROCESS, queries.dunning_brief)
    settlement.watch(kontor.sessions, kontor)
    kontor.document_owners.register("dunning", Dunning, _dunning_files)


def _dunning_files(session, who, document) -> None:
    """A dunning letter's PDF is accounting's and managers' (as the letters themselves)."""
    cases.require_dunning(who)
