"""Which bookings a period hands to the tax advisor: every invoice, down-payment invoice and credit
note issued in it (by issue date), as the invoice was fixed at issue, and the payments and Skonto of
the period from whoever records payments (a `PaymentSource`; none until payments are recorded).
Down payments go through the down-payment accounts (charts.py): revenue is the final invoice's alone.

Revenue kinds follow the tax category of each tax group (EN 16931 / UNCL 5305): S is domestic at its
rate, AE reverse charge (services to a business in another EU country), K an intra-community supply,
G an export. Another category (Z, E, O) has no booking rule yet and stops the export naming the
invoice. The customer's debtor account comes from its number (V-000012 → 12 → the chart's first
debtor account plus 12: 10012 in SKR03/SKR04 at account length 4)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from domain.accounting.charts import AccountingError, ChartOfAccounts
from domain.accounting.datev import (
    BookingRow,
    CreditNoteBooking,
    CreditUseBooking,
    DeductedDownPayment,
    DownPaymentBooking,
    InvoiceBooking,
    MoneyBooking,
    PaymentBooking,
    RevenuePortion,
    credit_note_rows,
    credit_use_rows,
    down_payment_rows,
    invoice_rows,
    payment_rows,
    skonto_rows,
)
from domain.customers.models import Customer
from domain.invoicing.models import Invoice, InvoiceDeduction
from kernel.money import TaxGroup, share_by_groups

CATEGORY_KINDS = {"S": "domestic", "AE": "reverse_charge_services", "K": "intra_community_supply", "G": "export"}
CUSTOMER_NUMBER = re.compile(r"(\d+)$")


class PaymentSource(Protocol):
    """The payments and Skonto booked from `date_from` to `date_to` (both included), in a stable order:
    the same period gives the same bookings."""

    def __call__(self, session: Session, date_from: date, date_to: date) -> Iterable[MoneyBooking]:
        ...


def no_payments(session: Session, date_from: date, date_to: date) -> Iterable[MoneyBooking]:
    """Until payments are recorded, a period has none."""
    return ()


@dataclass(frozen=True)
class IssuedDocument:
    """An invoice or credit note of the period with the name its file gets beside the bookings."""
    invoice_id: int
    number: str
    file_stem: str


def customer_number(number: str) -> int:
    """V-000012 → 12: the digits the customer number ends in."""
    found = CUSTOMER_NUMBER.search(number or "")
    if found is None:
        raise AccountingError(f"customer number {number!r} ends in no digits: no debtor account")
    return int(found.group(1))


def portions_of(invoice: Invoice) -> tuple[RevenuePortion, ...]:
    """The invoice's gross per tax group, with its revenue kind."""
    portions = []
    for group in invoice.tax_groups:
        kind = CATEGORY_KINDS.get(group["category"])
        if kind is None:
            raise AccountingError(f"{invoice.number}: tax category {group['category']} has no booking rule")
        gross = Decimal(group["net"]) + Decimal(group["tax"])
        if gross:
            portions.append(RevenuePortion(kind, Decimal(group["rate"]), gross))  # type: ignore[arg-type]
    return tuple(portions)


def down_payment_shares(invoice: Invoice, amount: Decimal) -> tuple[RevenuePortion, ...]:
    """What part of a down-payment invoice's gross per tax group an amount paid on it is."""
    groups = [TaxGroup(Decimal(group["rate"]), Decimal(group["net"]), Decimal(group["tax"]), group["category"])
              for group in invoice.tax_groups]
    kinds = {group.category: CATEGORY_KINDS.get(group.category) for group in groups}
    if None in kinds.values():
        raise AccountingError(f"{invoice.number}: a tax category of {sorted(kinds)} has no booking rule")
    return tuple(RevenuePortion(kinds[group.category], group.rate, net + tax)  # type: ignore[arg-type]
                 for group, net, tax in share_by_groups(amount, groups) if net + tax)


def deducted_down_payments(session: Session, invoice: Invoice) -> tuple[DeductedDownPayment, ...]:
    """The down payments a final invoice deducts, in the order they were issued."""
    return tuple(DeductedDownPayment(down_payment.number, portions_of(down_payment))
                 for down_payment in session.scalars(
                     select(Invoice).join(InvoiceDeduction, InvoiceDeduction.down_payment_id == Invoice.id)
                     .where(InvoiceDeduction.invoice_id == invoice.id).order_by(Invoice.issued_at, Invoice.id)))


def issued_in(session: Session, date_from: date, date_to: date) -> list[tuple[Invoice, Customer, Invoice | None]]:
    """(document, customer, corrected invoice) of everything issued in the period, by issue date and
    moment of issue: the order of the bookings."""
    corrected = aliased(Invoice)
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(Invoice, Customer, corrected)
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(corrected, corrected.id == Invoice.corrects_id)
        .where(Invoice.status == "issued", Invoice.issue_date >= date_from, Invoice.issue_date <= date_to)
        .order_by(Invoice.issue_date, Invoice.issued_at, Invoice.id)).all()]


def booking_rows(session: Session, chart: ChartOfAccounts, date_from: date, date_to: date,
                 payments: PaymentSource, file_names: dict[int, str]) -> list[BookingRow]:
    """The rows of the period: the issued documents first (in the order they were issued), then the payments.
    `file_names` maps a document's id to the name of its file in the hand-over (its Beleglink)."""
    rows: list[BookingRow] = []
    for invoice, customer, corrected in issued_in(session, date_from, date_to):
        if invoice.currency != "EUR":
            raise AccountingError(f"{invoice.number} is in {invoice.currency}: the export books EUR only")
        buyer = invoice.buyer or {}
        common = {"number": invoice.number, "issue_date": invoice.issue_date,
                  "customer_number": customer_number(customer.number),
                  "customer_name": buyer.get("name") or customer.name, "portions": portions_of(invoice),
                  "vat_id": buyer.get("vat_id") or None, "pdf_name": file_names.get(invoice.id)}
        if invoice.kind == "credit_note":
            rows += credit_note_rows(CreditNoteBooking(
                invoice_number=corrected.number if corrected is not None else invoice.number,
                of_down_payment=corrected is not None and corrected.kind == "down_payment", **common), chart)
        elif invoice.kind == "down_payment":
            rows += down_payment_rows(DownPaymentBooking(
                invoice.number, invoice.issue_date, common["customer_number"], common["customer_name"],
                common["portions"], common["pdf_name"], invoice.due_date), chart)
        else:
            rows += invoice_rows(InvoiceBooking(due_date=invoice.due_date,
                                                service_date=invoice.service_to or invoice.service_from,
                                                deducts=deducted_down_payments(session, invoice), **common),
                                 chart)
    for booking in payments(session, date_from, date_to):
        if isinstance(booking, PaymentBooking):
            rows += payment_rows(booking, chart)
        elif isinstance(booking, CreditUseBooking):
            rows += credit_use_rows(booking, chart)
        else:
            rows += skonto_rows(booking, chart)
    return rows
