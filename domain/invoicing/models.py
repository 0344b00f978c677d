"""Invoices and credit notes with their lines.

A draft may change; an issued invoice never does (§14 UStG, GoBD): no UPDATE or DELETE of an issued
invoice or of its lines succeeds — refused by the application (domain.invoicing.immutability) and,
on both databases, by triggers (migration 0020). Whatever happens to an invoice after its issue —
its mail, payments, dunning, a credit note — is recorded in rows of its own that name it.

What the invoice printed is kept on it at issue: the seller's and the buyer's names, addresses and
tax identifiers (`seller`, `buyer`), so that a later change of the customer or of the company's
settings never changes an issued invoice."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move
from kernel.module import NumberSeries

INVOICE_KINDS = ("invoice", "down_payment", "credit_note")
# UNCL 1001 document type codes (EN 16931 BT-3) of each kind
TYPE_CODES = {"invoice": "380", "down_payment": "386", "credit_note": "381"}
EINVOICE_FORMATS = ("factur_x", "xrechnung_cii", "xrechnung_ubl")

# A draft is released for issue (its process decides whether it needs an approval first), goes back
# to draft when an approver rejects it, and is deleted outright while a draft (it never had a number).
# An issued invoice stays issued for good: what happens to it afterwards (mail, payments, dunning,
# credit notes) is recorded beside it.
INVOICE_LIFECYCLE = Lifecycle(
    record="invoice", states=("draft", "released", "issued"), initial="draft", transitions=(
        *move("draft", "released", "release"),
        *move("released", "draft", "reject"),
        *move(("draft", "released"), "issued", "issue"),
    ))

INVOICE_NUMBERS = NumberSeries("invoice", "INV-{year}-", 4)
CREDIT_NOTE_NUMBERS = NumberSeries("credit_note", "CN-{year}-", 4)


def series_of(kind: str) -> NumberSeries:
    """Invoices and down-payment invoices share one series; credit notes have their own."""
    return CREDIT_NOTE_NUMBERS if kind == "credit_note" else INVOICE_NUMBERS


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (Index("ix_invoice_customer_status", "customer_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="invoice")
    number: Mapped[str | None] = mapped_column(String(30), unique=True)  # INV-2026-0001, given at issue
    status: Mapped[str] = mapped_column(String(10), default=INVOICE_LIFECYCLE.initial)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"), index=True)  # one order, or None
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    billing_address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)  # a credit note's invoice
    reopens_delivery: Mapped[bool] = mapped_column(default=False)  # a credit note that lets its lines be invoiced anew
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("order_milestone.id"))  # a down payment's
    instance_id: Mapped[int | None]  # its order-to-invoice process, once released
    released_by: Mapped[str | None] = mapped_column(String(100))  # who asked for the issue
    editors: Mapped[list[str] | None] = mapped_column(JSON)  # who changed the draft (none of them approves it)
    language: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    tax_treatment: Mapped[str] = mapped_column(String(20))
    einvoice_format: Mapped[str] = mapped_column(String(20), default="factur_x")
    buyer_reference: Mapped[str | None] = mapped_column(String(100))  # BT-10, the Leitweg-ID of public customers
    customer_order_reference: Mapped[str | None] = mapped_column(String(100))  # BT-13
    payment_days: Mapped[int]
    skonto_percent: Mapped[Decimal | None]
    skonto_days: Mapped[int | None]
    header_discount_percent: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    note: Mapped[str | None] = mapped_column(Text)
    manual_prices: Mapped[bool] = mapped_column(default=False)  # a line's price was changed by hand
    # set at issue
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    skonto_until: Mapped[date | None]
    skonto_amount: Mapped[Decimal | None]
    service_from: Mapped[date | None]
    service_to: Mapped[date | None]
    net_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    gross_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    prepaid_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))  # down payments a final invoice deducts
    amount_due: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax_groups: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    seller: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    issued_at: Mapped[datetime | None]
    issued_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    lifecycle = INVOICE_LIFECYCLE

    @property
    def label(self) -> str:
        return self.number or f"draft {self.id}"

    @property
    def type_code(self) -> str:
        return TYPE_CODES[self.kind]


class InvoiceLine(Base):
    __tablename__ = "invoice_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    position: Mapped[int]
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order_line.id"), index=True)
    delivery_line_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_line.id"), index=True)
    credited_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    sku: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal]
    unit_price: Mapped[Decimal]
    discount_percent: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax_rate: Mapped[Decimal]
    tax_category: Mapped[str] = mapped_column(String(2), default="S")  # UNCL 5305: S, AE, K, G, E, Z
    goods: Mapped[bool] = mapped_column(default=False)  # goods delivered (not a service): intra-community supply
    net: Mapped[Decimal]
    service_from: Mapped[date | None]
    service_to: Mapped[date | None]
    price_changed: Mapped[bool] = mapped_column(default=False)  # by hand, against the order


class InvoiceDeduction(Base):
    """A down-payment invoice that a final invoice deducts (EN 16931 BT-113): each once."""
    __tablename__ = "invoice_deduction"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    down_payment_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), unique=True)


class InvoiceDocument(Base):
    """A file an issued invoice was issued as: its e-invoice XML (validated before the issue
    committed) and its PDF (PDF/A-3 with the XML inside, rendered after). One row per kind and invoice."""
    __tablename__ = "invoice_document"
    __table_args__ = (UniqueConstraint("invoice_id", "kind", name="uq_invoice_document_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # xml | pdf
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
