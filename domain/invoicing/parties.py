"""The seller and the buyer as an invoice prints them, taken at issue and kept on the invoice: a
later change of the customer or of the company's settings never changes an issued invoice."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import Address, Contact, Customer
from domain.customers.recipients import display_name
from domain.settings import CompanySettings


def seller_of(settings: CompanySettings) -> dict[str, Any]:
    return {"name": settings.company_name, "street": settings.company_street,
            "postal_code": settings.company_postal_code, "city": settings.company_city,
            "country": settings.company_country, "vat_id": settings.company_vat_id,
            "tax_number": settings.company_tax_number, "email": settings.company_email,
            "phone": settings.company_phone, "iban": settings.company_iban, "bic": settings.company_bic,
            "register": settings.company_register, "managing_directors": settings.company_managing_directors}


def billing_address(session: Session, customer_id: int, address_id: int | None) -> Address | None:
    """The invoice's own billing address, else the customer's default billing address, else its main one."""
    if address_id is not None:
        address = session.get(Address, address_id)
        if address is not None and address.customer_id == customer_id:
            return address
    candidates = session.scalars(select(Address).where(Address.customer_id == customer_id,
                                                       Address.kind.in_(("billing", "main")))).all()
    ranked = sorted(candidates, key=lambda a: (a.kind != "billing", not a.is_default, a.id))
    return ranked[0] if ranked else None


def buyer_of(session: Session, customer: Customer, address_id: int | None, contact_id: int | None) -> dict[str, Any]:
    address = billing_address(session, customer.id, address_id)
    contact = session.get(Contact, contact_id) if contact_id else None
    return {"customer_id": customer.id, "number": customer.number, "name": customer.name,
            "recipient": address.recipient if address else None,
            "street": address.street if address else None, "street2": address.street2 if address else None,
            "postal_code": address.postal_code if address else None, "city": address.city if address else None,
            "country": address.country if address else customer.country, "vat_id": customer.vat_id,
            "consumer": customer.consumer,
            "contact": display_name(contact) if contact else None,
            "email": contact.email if contact else None}
