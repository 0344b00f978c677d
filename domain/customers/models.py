"""Customers and what belongs to them: sites, addresses and contact persons."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from kernel.db import Base
from kernel.lifecycle import Lifecycle, move
from kernel.module import NumberSeries

CUSTOMER_STATUSES = ("lead", "active", "passive")
# The relationship as sales sees it: staff set it freely, in any direction (a passive customer who
# orders again is active again); a merged customer becomes passive.
CUSTOMER_LIFECYCLE = Lifecycle(
    record="customer", states=CUSTOMER_STATUSES, initial="lead", transitions=(
        *move(("passive", "lead"), "active", "activate"),
        *move(("lead", "active"), "passive", "make_passive"),
        *move(("active", "passive"), "lead", "make_lead"),
    ))
COMPANY_SIZES = ("micro", "small", "medium", "large", "enterprise")
TAX_TREATMENTS = ("domestic", "eu_reverse_charge", "export")
ADDRESS_KINDS = ("main", "billing", "delivery")
LANGUAGES = ("de", "en")
CONSENT_STATES = ("unknown", "granted", "declined", "revoked")
DOCUMENT_KINDS = ("offers", "invoices", "dunning")


# Full-text search over 100,000 customers stays fast on PostgreSQL with a trigram index (pg_trgm);
# SQLite scans, which is fine for the embedded single-user sizes.
SEARCH_INDEX = Index("ix_customer_search_trgm", "search_text", postgresql_using="gin",
                     postgresql_ops={"search_text": "gin_trgm_ops"}, info={"only_on": "postgresql"})
SEARCH_INDEX.ddl_if(dialect="postgresql")

CUSTOMER_NUMBERS = NumberSeries("customer", "V-", 6)


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (Index("ix_customer_status_name", "status", "name"), SEARCH_INDEX)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(10), default=CUSTOMER_LIFECYCLE.initial)
    industry: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), default="DE")
    vat_id: Mapped[str | None] = mapped_column(String(20), index=True)
    tax_treatment: Mapped[str] = mapped_column(String(20), default="domestic")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_list.id", name="fk_customer_price_list"))
    payment_days: Mapped[int] = mapped_column(default=14)
    skonto_percent: Mapped[Decimal | None]
    skonto_days: Mapped[int | None]
    delivery_terms: Mapped[str | None] = mapped_column(String(200))
    credit_limit: Mapped[Decimal | None]
    # invoicing: a consumer (not a business: §288 BGB's lower default interest, no flat fee, simplified
    # small invoices); several orders on one invoice (Sammelrechnung); the e-invoice it receives and
    # its buyer reference (BT-10: the Leitweg-ID of a public customer, which XRechnung requires)
    consumer: Mapped[bool] = mapped_column(Boolean, default=False)
    collective_invoice: Mapped[bool] = mapped_column(Boolean, default=False)
    einvoice_format: Mapped[str] = mapped_column(String(20), default="factur_x")
    buyer_reference: Mapped[str | None] = mapped_column(String(100))
    # the manager who last set the payment terms and the credit limit; None when a salesperson did:
    # then the offer approval measures against the company's standard terms, not these
    terms_approved_by: Mapped[str | None] = mapped_column(String(100))
    no_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(100), index=True)  # the salesperson's username
    preferred_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", use_alter=True, name="fk_customer_preferred_contact", ondelete="SET NULL"))
    preferred_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", use_alter=True, name="fk_customer_preferred_site", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    # Lower-case text of number, name, VAT ID, contacts' names and e-mails and the cities: the
    # full-text search looks here (kept current by every write of the customer center).
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    lifecycle = CUSTOMER_LIFECYCLE


class Site(Base):
    """A location of the customer (plant, branch); may have its own billing address and VAT data."""
    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    tax_treatment: Mapped[str | None] = mapped_column(String(20))  # None: the customer's
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Address(Base):
    __tablename__ = "address"
    __table_args__ = (Index("ix_address_customer_kind", "customer_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(String(10))  # main | billing | delivery
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    recipient: Mapped[str | None] = mapped_column(String(200))  # deviating name line, e.g. "Buchhaltung"
    street: Mapped[str] = mapped_column(String(200))
    street2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100), index=True)
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contact(Base):
    """A contact person at the customer."""
    __tablename__ = "contact"
    # mail intake finds a sender among the contacts by the address in lower case
    __table_args__ = (Index("ix_contact_email_lower", func.lower(text("email"))),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    salutation: Mapped[str | None] = mapped_column(String(30))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2), default="de")
    marketing_consent: Mapped[str] = mapped_column(String(10), default="unknown")
    consent_changed_at: Mapped[datetime | None]
    # Which documents go to this person: dispatch picks the recipients by these.
    receives_offers: Mapped[bool] = mapped_column(Boolean, default=False)
    receives_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    receives_dunning: Mapped[bool] = mapped_column(Boolean, default=False)
    no_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    email_bounced_at: Mapped[datetime | None]  # mail to the address came back as undeliverable
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # optimistic locking: a change names the version it read
    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def receives(self) -> list[str]:
        return [kind for kind in DOCUMENT_KINDS if getattr(self, f"receives_{kind}")]

    @receives.setter
    def receives(self, kinds: list[str]) -> None:
        for kind in DOCUMENT_KINDS:
            setattr(self, f"receives_{kind}", kind in kinds)
