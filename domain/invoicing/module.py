"""The invoicing module: invoices, down-payment invoices and credit notes from what orders delivered."""
from __future__ import annotations

from pathlib import Path

from domain.invoicing import models, wiring
from domain.invoicing.models import CREDIT_NOTE_NUMBERS, INVOICE_NUMBERS
from kernel.module import Module

MODULE = Module(
    name="invoicing",
    package="domain.invoicing",
    public=("models", "module", "access", "commands", "credit_notes", "drafts", "files", "issuing",
            "process", "queries", "periodic"),
    models=(models,),
    wire=wiring.register,
    number_series=(INVOICE_NUMBERS, CREDIT_NOTE_NUMBERS),
    routers=("api.routers.invoices:router",),
    processes=("order_to_invoice",),
    messages=("invoice_reply", "invoice_settled"),  # from the mail intake and the payments only
    templates=(Path(__file__).parent / "mail_templates",),
    trace_kinds=("invoice_issued", "invoice_approved", "invoice_rejected", "invoice_sent"),
    trace_texts=(("invoice_issued.invoice", "Rechnung {invoice} gestellt ({total})",
                  "invoice {invoice} issued ({total})"),
                 ("invoice_issued.down_payment", "Abschlagsrechnung {invoice} gestellt ({total})",
                  "down-payment invoice {invoice} issued ({total})"),
                 ("invoice_issued.credit_note", "Rechnungskorrektur {invoice} gestellt ({total})",
                  "credit note {invoice} issued ({total})"),
                 ("invoice_approved", "Rechnung {invoice} zur Ausstellung freigegeben",
                  "invoice {invoice} approved for issue"),
                 ("invoice_rejected", "Rechnung {invoice} zurück in den Entwurf: {reason}",
                  "invoice {invoice} sent back to draft: {reason}"),
                 ("invoice_sent", "{invoice} an {address} gesendet", "{invoice} sent to {address}")),
    customer_trace_kinds=("invoice_issued", "invoice_sent"),
)
