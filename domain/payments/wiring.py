"""What the payments module registers once Kontor is built: the guard and completion of the
clarification task and the line shown beside it; and that bank statements take documents (their
uploaded file, which only staff read)."""
from __future__ import annotations

from domain.customers.access import require_staff
from domain.payments import clarification
from domain.payments.models import BankStatementImport


def _staff_only(session, who, document) -> None:
    require_staff(who, "bank statements")


def register(kontor) -> None:
    runtime = kontor.runtime
    runtime.guards.register("payments.clarification", clarification.guard_clarification)
    runtime.completions.register("payments.record_clarification", clarification.record_clarification)
    runtime.register_task_view(clarification.PROCESS, clarification.clarification_brief)
    kontor.document_owners.register("bank_statement", BankStatementImport, _staff_only)
