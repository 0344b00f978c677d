"""What a letter to a customer needs from the customer center: the salutation of the person it goes
to, and where the goods or services go (the site and its delivery address).

The salutation follows the contact's stored salutation (free text such as "Frau", "Herr Dr.",
"Ms", "Mr Prof."): a form of address it names (Frau/Herr, Ms/Mrs/Miss/Mr) gives the personal line
("Sehr geehrte Frau Dr. Schmidt," / "Dear Dr Schmidt,"); academic titles in it are kept. Without
one, or without a contact, the letter opens neutrally ("Sehr geehrte Damen und Herren," / "Dear Sir
or Madam,"): a greeting must never guess a gender."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import Address, Contact, Customer, Site

NEUTRAL = {"de": "Sehr geehrte Damen und Herren,", "en": "Dear Sir or Madam,"}
_FEMALE = {"frau", "ms", "ms.", "mrs", "mrs.", "miss", "mme", "madam"}
_MALE = {"herr", "hr.", "mr", "mr.", "sir"}
_TITLES = {"dr.": "Dr", "dr": "Dr", "prof.": "Prof", "prof": "Prof", "dr.-ing.": "Dr", "dipl.-ing.": None}


def salutation(contact: Contact | None, lang: str) -> str:
    """The letter's first line for this contact, in German or English (any other language: English)."""
    if contact is None or not contact.last_name:
        return NEUTRAL.get(lang, NEUTRAL["en"])
    words = (contact.salutation or "").split()
    gender = next(("f" if w.lower() in _FEMALE else "m" for w in words if w.lower() in _FEMALE | _MALE), None)
    titles = [w for w in words if w.lower() not in _FEMALE | _MALE]
    if gender is None:
        return NEUTRAL.get(lang, NEUTRAL["en"])
    if lang == "de":
        opening = "Sehr geehrte Frau" if gender == "f" else "Sehr geehrter Herr"
        return " ".join([opening, *titles, contact.last_name]) + ","
    english = [_TITLES[t.lower()] for t in titles if _TITLES.get(t.lower())]
    # English letters address a doctor or professor by the title alone: "Dear Dr Schmidt,"
    form = english[0] if english else ("Ms" if gender == "f" else "Mr")
    return f"Dear {form} {contact.last_name},"


@dataclass(frozen=True)
class DeliveryPlace:
    site: str | None  # the site's name
    address: Address | None


def delivery_place(session: Session, customer_id: int, site_id: int | None,
                   delivery_address_id: int | None) -> DeliveryPlace:
    """Where a document's goods or services go: its own delivery address (and site) if set; else the
    site's delivery address; else the customer's default delivery address and its site (or, with no
    delivery address at all, the customer's preferred site by name)."""
    site = session.get(Site, site_id) if site_id else None
    address = session.get(Address, delivery_address_id) if delivery_address_id else None
    if address is None:
        delivery = select(Address).where(Address.customer_id == customer_id, Address.kind == "delivery")
        if site is not None:
            address = session.scalar(delivery.where(Address.site_id == site.id)
                                     .order_by(Address.is_default.desc(), Address.id))
        if address is None:
            address = session.scalar(delivery.where(Address.is_default.is_(True)).order_by(Address.id)) \
                or session.scalar(delivery.order_by(Address.id))
    if site is None and address is not None and address.site_id:
        site = session.get(Site, address.site_id)
    if site is None and address is None:
        customer = session.get(Customer, customer_id)
        site = session.get(Site, customer.preferred_site_id) if customer and customer.preferred_site_id else None
    return DeliveryPlace(site.name if site is not None else None, address)
