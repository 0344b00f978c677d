"""The e-invoice an invoice is issued with (EN 16931): built from the invoice as fixed at issue and
validated before the issue commits. Filled in by the e-invoicing module."""
from __future__ import annotations

make_einvoice = None
