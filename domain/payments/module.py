"""The payments module: statement reading, payment matching and SEPA direct debit files. It holds
no tables yet; the records of payments and allocations come with invoicing."""
from __future__ import annotations

from kernel.module import Module

MODULE = Module(
    name="payments",
    package="domain.payments",
    public=("statements", "camt053", "mt940_statements", "open_items", "matching", "sepa_debit", "module"),
)
