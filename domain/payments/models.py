"""Payments and open items as records: bank statements imported, their lines with what the matching
decided, payments, what each payment settles on which invoice (allocations), and customers' credit.

An issued invoice never changes (§14 UStG, GoBD), so nothing here writes to it: what is still open
on an invoice is its `amount_due` less what the allocations naming it settle (domain.payments.balances).

- `BankStatementImport`: one uploaded statement file (CAMT.053 or MT940), kept as a document in the
  content store, and its import as an item of the durable queue (runtime.queue): received → importing
  → imported (or failed, with an incident for ops). The counts per outcome are set by the import.
- `BankStatementLine`: each line once: its fingerprint is unique, so importing the same statement
  again (or the bank re-sending it under another id) books nothing twice. An unmatched line is on
  the clarification list (`clarification` open) until a person assigns it or marks it as no
  customer payment.
- `Payment`: money received (or, for a returned direct debit, given back), with its source.
- `PaymentAllocation`: what a payment does to one invoice, by kind: `payment` settles, `skonto`
  settles as the early-payment discount (with its net and tax per rate in `shares`), `return`
  re-opens (a returned direct debit), `credit_note` settles by a credit note's credit, `credit`
  settles by the payment's rest, the customer's credit, applied later (`applied_on`). Amounts are
  positive; the kind says which way they count.
- `CustomerCredit`: a payment's rest that no invoice explains (an over-payment), the customer's credit."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from runtime.models import QueueItem

STATEMENT_FORMATS = ("camt053", "mt940")
IMPORT_STATES = ("received", "importing", "imported", "failed")
OUTCOMES = ("matched", "partial", "overpaid", "returned", "unmatched", "duplicate")
CLARIFICATIONS = ("open", "assigned", "not_customer_payment")
PAYMENT_SOURCES = ("manual", "statement", "direct_debit")
ALLOCATION_KINDS = ("payment", "skonto", "return", "credit_note", "credit")
SETTLING_KINDS = ("payment", "skonto", "credit_note", "credit")  # lower what is open; `return` raises it again


class BankStatementImport(QueueItem, Base):
    __tablename__ = "bank_statement"
    __table_args__ = (Index("ix_bank_statement_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(String(10))  # camt053 | mt940
    source_format: Mapped[str] = mapped_column(String(40))  # camt.053.001.08, mt940
    account_iban: Mapped[str] = mapped_column(String(34), index=True)
    statement_id: Mapped[str] = mapped_column(String(200))  # the bank's id(s) of the statement(s) in the file
    from_date: Mapped[date | None]
    to_date: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    filename: Mapped[str] = mapped_column(String(255))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # the file, stored with the row
    state: Mapped[str] = mapped_column(String(12), default="received")  # one of IMPORT_STATES
    lines_total: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # lines per outcome, set by the import
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_at: Mapped[datetime | None]


class BankStatementLine(Base):
    __tablename__ = "bank_statement_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True)
    position: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal]
    direction: Mapped[str] = mapped_column(String(6))  # credit | debit
    currency: Mapped[str] = mapped_column(String(3))
    booking_date: Mapped[date]
    value_date: Mapped[date | None]
    remittance: Mapped[str] = mapped_column(Text, default="")
    end_to_end_id: Mapped[str | None] = mapped_column(String(100))
    mandate_reference: Mapped[str | None] = mapped_column(String(100))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34), index=True)
    entry_reference: Mapped[str | None] = mapped_column(String(100))
    is_return: Mapped[bool] = mapped_column(default=False)
    return_reason: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(12))  # matched | partial | overpaid | returned | unmatched
    rule: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(40))  # why it is unmatched (domain.payments.matching.REASONS)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    clarification: Mapped[str | None] = mapped_column(String(24), index=True)  # None: nothing to clarify
    clarified_by: Mapped[str | None] = mapped_column(String(100))
    clarified_at: Mapped[datetime | None]
    clarification_note: Mapped[str | None] = mapped_column(Text)


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_customer_date", "customer_id", "booking_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    amount: Mapped[Decimal]  # positive: money received; negative: money given back (a returned direct debit)
    currency: Mapped[str] = mapped_column(String(3))
    booking_date: Mapped[date]
    source: Mapped[str] = mapped_column(String(14))  # manual | statement | direct_debit
    reference: Mapped[str | None] = mapped_column(String(300))
    statement_line_id: Mapped[int | None] = mapped_column(ForeignKey("bank_statement_line.id"), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentAllocation(Base):
    __tablename__ = "payment_allocation"
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # payment | skonto | return | credit_note | credit
    amount: Mapped[Decimal]  # positive; the kind says whether it settles or re-opens
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))  # kind credit_note: whose credit
    # kind skonto: [{"rate": "19.00", "gross": "23.80", "net": "20.00", "tax": "3.80"}] (§17 UStG)
    shares: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # kind credit: the payment's rest (the customer's credit) applied later, on this company day
    applied_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerCredit(Base):
    __tablename__ = "customer_credit"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), unique=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
