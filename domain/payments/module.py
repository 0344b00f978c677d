"""The payments module: statement reading, payment matching and SEPA direct debit files (pure), and
the records of payments: imported bank statements and their lines, payments, their allocations to
invoices, customers' credit (and its use on later invoices), the open items read from them, and
the clarification task of a line no rule could match (bpmn/payment_clarification.bpmn); customers'
SEPA mandates and the direct debit runs that collect invoices under them (mandate_models)."""
from __future__ import annotations

from domain.payments import mandate_models, models, wiring
from domain.payments.clarification import PROCESS
from kernel.module import Module

MODULE = Module(
    name="payments",
    package="domain.payments",
    public=("statements", "camt053", "mt940_statements", "open_items", "matching", "sepa_debit", "module",
            "mandate_models", "mandates", "direct_debits", "models", "balances", "commands", "imports", "queries",
            "bookings", "credits"),
    models=(mandate_models, models),
    wire=wiring.register,
    processes=(PROCESS,),  # started by a statement import only, one per unmatched line
    routers=("api.routers.direct_debits:customer_router", "api.routers.direct_debits:mandate_router",
             "api.routers.direct_debits:router", "api.routers.payments:router",
             "api.routers.payments:statements_router", "api.routers.payments:open_items_router",
             "api.routers.payments:credit_router"),
    trace_kinds=("credit_applied",),
    trace_texts=(("credit_applied", "Guthaben von {amount} mit {invoice} verrechnet",
                  "credit of {amount} applied to {invoice}"),),
)
