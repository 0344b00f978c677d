"""What every letter to a customer prints alike, read from the records: the letterhead and footer
from the company settings, the addressee (customer, billing address, contact), the salutation, the
delivery place, the salesperson who speaks for the company, and figures (money, quantities with
units, percentages, dates, service periods) written as the reader's language writes them."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.letters import delivery_place, salutation
from domain.customers.models import Address, Contact, Customer
from domain.customers.recipients import display_name
from domain.settings import CompanySettings
from domain.users import User
from kernel import formatting

_NO_ADDRESS = SimpleNamespace(recipient=None, street=None, street2=None, postal_code=None, city=None, country=None)


class Addressed(Protocol):
    """A record a letter is written about (an offer, an order, an invoice): whom it goes to."""
    customer_id: int
    billing_address_id: int | None
    contact_id: int | None
    site_id: int | None
    delivery_address_id: int | None


@dataclass(frozen=True)
class Formats:
    """Figures as the letter's reader reads them: `13.900,39 €` / `€13,900.39`, `19 %` / `19%`,
    `1.200 Stunden` / `1,200 hours`, `5. Dezember 2026` / `5 December 2026`."""
    lang: str
    currency: str

    def money(self, amount: Decimal) -> str:
        return formatting.money(amount, self.currency, self.lang)

    def percent(self, value: Decimal) -> str:
        return formatting.percent(value, self.lang)

    def quantity(self, value: Decimal, unit: str | None = None) -> str:
        return formatting.with_unit(value, unit, self.lang)

    def day(self, value: date | datetime) -> str:
        return formatting.day(value, self.lang)

    def period(self, start: date, end: date | None = None) -> str:
        """A service date (`end` None) or period for the service column."""
        return formatting.day_span(start, end or start, self.lang)


def salesperson_of(session: Session, username: str | None) -> dict | None:
    """The person who speaks for the company on the document: name, phone and e-mail. A user name is
    no name for customers: without a stored name, the document gives phone and e-mail only."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    if user is None or not (user.full_name or user.phone or user.email):
        return None
    return {"name": user.full_name, "phone": user.phone, "email": user.email}


def company_of(settings: CompanySettings) -> dict:
    """The letterhead and the footer's legal details (name, address, phone, e-mail, VAT ID, register,
    managing directors, bank)."""
    return {"name": settings.company_name, "address": settings.company_address, "phone": settings.company_phone,
            "email": settings.company_email, "vat_id": settings.company_vat_id,
            "register": settings.company_register, "managing_directors": settings.company_managing_directors,
            "bank": settings.company_bank}


def letter_context(session: Session, settings: CompanySettings, record: Addressed, lang: str,
                   salesperson_username: str | None) -> dict:
    """The context keys every letter's template needs besides the document's own: `lang`,
    `company`, `company_country`, `customer`, `billing`, `contact`, `salutation`, `site`, `delivery`
    and `salesperson`."""
    customer = session.get(Customer, record.customer_id)
    address = session.get(Address, record.billing_address_id) if record.billing_address_id else None
    contact = session.get(Contact, record.contact_id) if record.contact_id else None
    place = delivery_place(session, record.customer_id, record.site_id, record.delivery_address_id)
    return dict(lang=lang, company=company_of(settings), company_country=settings.company_country,
                customer=customer, billing=address or _NO_ADDRESS,
                contact=display_name(contact) if contact else None, salutation=salutation(contact, lang),
                site=place.site, delivery=place.address,
                salesperson=salesperson_of(session, salesperson_username))


def totals_context(fmt: Formats, *, lines_net: Decimal, header_discount: Decimal, header_discount_percent: Decimal,
                   net_total: Decimal, tax_groups: Iterable[tuple[Decimal, Decimal, Decimal]],
                   gross_total: Decimal) -> dict:
    """The `totals` a letter prints: the lines' sum and the header discount (only when there is one),
    the net total, tax per rate (rate, net, tax) and the gross total, formatted."""
    return {"lines_net": fmt.money(lines_net),
            "header_discount": fmt.money(header_discount) if header_discount else None,
            "header_discount_percent": fmt.percent(header_discount_percent),
            "net_total": fmt.money(net_total),
            "tax_groups": [{"rate": fmt.percent(rate), "net": fmt.money(net), "tax": fmt.money(tax)}
                           for rate, net, tax in tax_groups],
            "gross_total": fmt.money(gross_total)}


def payment_terms(t: dict, fmt: Formats, days: int, skonto_percent: Decimal | None, skonto_days: int | None) -> str:
    """`zahlbar innerhalb von 30 Tagen netto; 2 % Skonto bei Zahlung innerhalb von 10 Tagen`."""
    text = t["net_days"].format(days=days)
    if skonto_percent and skonto_days:
        text += "; " + t["skonto"].format(percent=fmt.percent(skonto_percent), days=skonto_days)
    return text


def tax_note(t: dict, tax_treatment: str | None) -> str | None:
    """The legal text a document without domestic VAT must carry (reverse charge, export)."""
    return t.get(tax_treatment) if tax_treatment and tax_treatment != "domestic" else None
