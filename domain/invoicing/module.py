"""The invoicing module: invoices, down-payment invoices and credit notes from what orders delivered."""
from __future__ import annotations

from domain.invoicing import models, wiring
from domain.invoicing.models import CREDIT_NOTE_NUMBERS, INVOICE_NUMBERS
from kernel.module import Module

MODULE = Module(
    name="invoicing",
    package="domain.invoicing",
    public=("models", "module", "access", "commands", "credit_notes", "drafts", "files", "issuing",
            "queries"),
    models=(models,),
    wire=wiring.register,
    number_series=(INVOICE_NUMBERS, CREDIT_NOTE_NUMBERS),
    routers=("api.routers.invoices:router",),
    trace_kinds=("invoice_issued",),
    trace_texts=(("invoice_issued.invoice", "Rechnung {invoice} gestellt ({total})",
                  "invoice {invoice} issued ({total})"),
                 ("invoice_issued.down_payment", "Abschlagsrechnung {invoice} gestellt ({total})",
                  "down-payment invoice {invoice} issued ({total})"),
                 ("invoice_issued.credit_note", "Rechnungskorrektur {invoice} gestellt ({total})",
                  "credit note {invoice} issued ({total})")),
    customer_trace_kinds=("invoice_issued",),
)
