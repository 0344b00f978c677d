"""Collecting invoices by SEPA direct debit: one run per collection date and scheme, one pain.008 file.

A run takes every issued invoice (and down-payment invoice) that is still owed — what is open on it
after payments, Skonto, credit notes and applied credit — of every customer with an active mandate of the run's scheme
signed by the collection date, unless an earlier run collected it already. The mandate's first
collection goes as FRST, every later one as RCUR. The file is built and validated against the
pain.008.001.08 schema before anything is recorded; the run, its items and the file (in the content
store) are recorded in the caller's transaction. A second run skips what the first collected, and
the unique invoice of the items refuses it even when two runs are made at the same moment."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.invoicing.models import Invoice
from domain.payments.balances import invoice_balances
from domain.payments.mandate_models import DirectDebitItem, DirectDebitRun, Mandate
from domain.payments.mandates import require_accounting
from domain.payments.sepa_debit import Creditor, DirectDebit, SepaDataError, build_direct_debit_file
from domain.settings import CompanySettings
from kernel.documents import DocumentStore
from kernel.errors import Conflict, NotFound, ValidationFailed
from kernel.principal import Principal

ZERO = Decimal("0.00")
COLLECTED_KINDS = ("invoice", "down_payment")


@dataclass(frozen=True)
class CollectedItem:
    """What payments needs to know of a collected invoice: under which mandate, in which run, on
    which date, for how much, as which end-to-end id and sequence type."""
    invoice_id: int
    run_id: int
    collection_date: date
    mandate_id: int
    mandate_reference: str
    amount: Decimal
    end_to_end_id: str
    sequence_type: str


def creditor_of(settings: CompanySettings) -> Creditor:
    """The company as creditor; a Conflict naming the setting that is missing."""
    missing = [name for name in ("company_iban", "company_creditor_id") if not getattr(settings, name)]
    if missing:
        raise Conflict(f"direct debits need the company's {' and '.join(missing)} (KONTOR_"
                       f"{'/KONTOR_'.join(name.upper() for name in missing)})")
    return Creditor(name=settings.company_name, iban=settings.company_iban, creditor_id=settings.company_creditor_id,
                    bic=settings.company_bic)


def collect_due_invoices(session: Session, who: Principal, settings: CompanySettings, store: DocumentStore,
                         collection_date: date, today: date, scheme: str = "CORE") -> DirectDebitRun:
    """A run collecting what is owed under active mandates on `collection_date`; Conflict when nothing is."""
    require_accounting(who)
    if collection_date <= today:
        raise ValidationFailed("the collection date is not valid", [
            {"field": "collection_date", "message": f"after today ({today.isoformat()}): banks need the file first"}])
    creditor = creditor_of(settings)
    mandates = _mandates_by_customer(session, scheme, collection_date)
    owed = _owed_invoices(session, list(mandates), today)
    if not owed:
        raise Conflict(f"nothing to collect on {collection_date.isoformat()}: no invoice still owed by a customer "
                       f"with an active {scheme} mandate that no run collected yet")
    debits, items = [], []
    for invoice, amount in owed:
        mandate = mandates[invoice.customer_id]
        sequence = "FRST" if mandate.first_run_id is None else "RCUR"
        debits.append(DirectDebit(mandate_reference=mandate.reference, mandate_date=mandate.signed_on,
                                  debtor_name=mandate.debtor_name, debtor_iban=mandate.iban, debtor_bic=mandate.bic,
                                  amount=amount, end_to_end_id=invoice.number, sequence_type=sequence,
                                  collection_date=collection_date, remittance=f"Rechnung {invoice.number}"))
        items.append(DirectDebitItem(invoice_id=invoice.id, mandate_id=mandate.id, amount=amount,
                                     end_to_end_id=invoice.number, sequence_type=sequence))
    try:
        xml = build_direct_debit_file(creditor, debits, scheme=scheme)  # type: ignore[arg-type]
    except SepaDataError as error:
        raise Conflict(f"the direct debit file cannot be made: {error}") from None
    filename = f"Lastschriften_{collection_date.isoformat()}_{scheme}.xml"
    run = DirectDebitRun(collection_date=collection_date, scheme=scheme, item_count=len(items),
                         total=sum((item.amount for item in items), ZERO), filename=filename,
                         file_sha256=store.put(xml), created_by=who.username)
    session.add(run)
    session.flush()
    for item in items:
        item.run_id = run.id
        session.add(item)
    for mandate in mandates.values():
        if mandate.first_run_id is None and any(item.mandate_id == mandate.id for item in items):
            mandate.first_run_id = run.id
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("another run collected some of these invoices at the same moment; make the run again") \
            from None
    return run


def _mandates_by_customer(session: Session, scheme: str, collection_date: date) -> dict[int, Mandate]:
    """Per customer its active mandate of the scheme signed by the collection date (the newest one
    where a customer signed several), locked: its FRST/RCUR state changes with this run."""
    rows = session.scalars(select(Mandate).where(Mandate.status == "active", Mandate.scheme == scheme,
                                                 Mandate.signed_on <= collection_date)
                           .order_by(Mandate.customer_id, Mandate.signed_on.desc(), Mandate.id.desc())
                           .with_for_update())
    chosen: dict[int, Mandate] = {}
    for mandate in rows:
        chosen.setdefault(mandate.customer_id, mandate)
    return chosen


def _owed_invoices(session: Session, customer_ids: list[int], today: date) -> list[tuple[Invoice, Decimal]]:
    """(invoice, amount still open) of these customers' issued invoices no run collected, oldest first:
    what payments, Skonto, credit notes and applied credit left of each (domain.payments.balances)."""
    if not customer_ids:
        return []
    invoices = list(session.scalars(
        select(Invoice).where(Invoice.customer_id.in_(customer_ids), Invoice.status == "issued",
                              Invoice.kind.in_(COLLECTED_KINDS), Invoice.currency == "EUR",
                              ~exists().where(DirectDebitItem.invoice_id == Invoice.id))
        .order_by(Invoice.issue_date, Invoice.id)))
    if not invoices:
        return []
    open_on = {balance.invoice_id: balance.open_amount for balance in invoice_balances(
        session, today=today, invoice_ids=[invoice.id for invoice in invoices], only_open=True)}
    return [(invoice, open_on[invoice.id].quantize(Decimal("0.01"))) for invoice in invoices
            if open_on.get(invoice.id, ZERO) > ZERO]


def readable_run(session: Session, who: Principal, run_id: int) -> DirectDebitRun:
    require_accounting(who)
    run = session.get(DirectDebitRun, run_id)
    if run is None:
        raise NotFound(f"direct debit run {run_id} not found")
    return run


def items_of(session: Session, run_id: int) -> list[DirectDebitItem]:
    return list(session.scalars(select(DirectDebitItem).where(DirectDebitItem.run_id == run_id)
                                .order_by(DirectDebitItem.id)))


def run_file(session: Session, who: Principal, store: DocumentStore, run_id: int) -> tuple[str, bytes]:
    """(file name, pain.008 XML) of the run, as it was validated and recorded."""
    run = readable_run(session, who, run_id)
    return run.filename, store.get(run.file_sha256)


def direct_debit_items(session: Session, invoice_ids: Iterable[int]) -> dict[int, CollectedItem]:
    """Per invoice id, how it was collected by direct debit (invoices never collected are absent):
    for payments, to expect the money and to recognise a returned debit."""
    ids = list(invoice_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(DirectDebitItem, DirectDebitRun.collection_date, Mandate.reference)
        .join(DirectDebitRun, DirectDebitRun.id == DirectDebitItem.run_id)
        .join(Mandate, Mandate.id == DirectDebitItem.mandate_id)
        .where(DirectDebitItem.invoice_id.in_(ids))).all()
    return {item.invoice_id: CollectedItem(item.invoice_id, item.run_id, collected_on, item.mandate_id, reference,
                                           item.amount, item.end_to_end_id, item.sequence_type)
            for item, collected_on, reference in rows}
