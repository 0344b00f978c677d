"""The payments module: statement reading, payment matching, SEPA direct debit files, customers'
mandates and the direct debit runs that collect invoices under them (mandate_models)."""
from __future__ import annotations

from domain.payments import mandate_models
from kernel.module import Module

MODULE = Module(
    name="payments",
    package="domain.payments",
    public=("statements", "camt053", "mt940_statements", "open_items", "matching", "sepa_debit", "module",
            "mandate_models", "mandates", "direct_debits"),
    models=(mandate_models,),
    routers=("api.routers.direct_debits:customer_router", "api.routers.direct_debits:mandate_router",
             "api.routers.direct_debits:router"),
)
