"""When an invoice is settled, whoever waits for it hears it, in the transaction that settled it:
its dunning case ends (`settled`) and its process hears `dunning_stop`, and its order-to-invoice
process hears `invoice_settled`. Nothing else moves them: a payment booked by API, by a statement
import or by a clarification, a credit note issued against the invoice, credit used on it.

The payments note the invoices whose open amount changed (domain.payments.commands.
note_balance_changed); an issued credit note is seen at flush. Before the transaction commits, the
open amounts of those invoices are read once, and each one at zero or below is announced. A failed
announcement is logged and leaves the booking alone: the case's next step reads the balance anyway
and ends the case without a letter."""
from __future__ import annotations

import logging

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from domain.dunning.models import Dunning
from domain.invoicing.models import Invoice
from domain.payments.balances import invoice_balances
from domain.payments.commands import BALANCE_CHANGED, note_balance_changed
from kernel.principal import SYSTEM
from runtime.models import ProcessInstance

log = logging.getLogger("kontor.dunning")


def _credit_notes_issued(session: Session, _context, _instances) -> None:
    for record in session.dirty:
        if isinstance(record, Invoice) and record.kind == "credit_note" and record.corrects_id \
                and record.status == "issued" and inspect(record).attrs.status.history.added:
            note_balance_changed(session, {record.corrects_id})


def _running(session: Session, instance_id: int | None) -> bool:
    return instance_id is not None and session.scalar(
        select(ProcessInstance.status).where(ProcessInstance.id == instance_id)) == "running"


def announce_settled(session: Session, runtime, today) -> list[int]:
    """Announce the noted invoices that are settled now; their ids."""
    from domain.dunning.cases import end_case
    from runtime.messages import correlate_message

    noted = session.info.pop(BALANCE_CHANGED, None)
    if not noted:
        return []
    settled = [b.invoice_id for b in invoice_balances(session, today=today, invoice_ids=sorted(noted))
               if b.open_amount <= 0]
    for invoice_id in settled:
        invoice = session.get(Invoice, invoice_id)
        case = session.scalar(select(Dunning).where(Dunning.open_invoice_id == invoice_id).with_for_update())
        if case is not None:
            end_case(session, case, "settled", today, SYSTEM, "the invoice is settled")
            if _running(session, case.instance_id):
                correlate_message(session, runtime, SYSTEM, "dunning_stop", {"dunning_id": case.id},
                                  data={"invoice_id": invoice_id}, message_id=f"dunning-stop:{case.id}")
        if _running(session, invoice.instance_id):
            correlate_message(session, runtime, SYSTEM, "invoice_settled", {"invoice_id": invoice_id},
                              data={"invoice_id": invoice_id}, message_id=f"invoice-settled:{invoice.instance_id}")
    return settled


def watch(sessions, kontor) -> None:
    """Announce settled invoices in every session this factory makes, before it commits."""
    from domain.settings import company_today

    def before_commit(session: Session) -> None:
        if not session.info.get(BALANCE_CHANGED):
            return
        try:
            with session.begin_nested():
                announce_settled(session, kontor.runtime, company_today(kontor.settings))
        except Exception:  # noqa: BLE001 - the booking stands; the case's next step reads the balance again
            log.exception("settled invoices could not be announced to their processes")

    if not event.contains(sessions, "before_flush", _credit_notes_issued):
        event.listen(sessions, "before_flush", _credit_notes_issued)
        event.listen(sessions, "before_commit", before_commit)
