"""Commands of the customer center: create and change customers, sites, addresses and contacts.
Each runs inside the caller's transaction; field errors are collected and raised together."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.catalog.models import PriceList
from domain.customers.access import EDIT_ALL_ROLES, editable_customer, require_creator
from domain.customers.models import CUSTOMER_NUMBERS, Address, Contact, Customer, Site
from domain.customers.recipients import default_receives
from domain.customers.rules import check_einvoice, check_payment_terms, check_tax_treatment, normalize_vat_id
from domain.lifecycle import TraceEntry, change_state
from domain.numbering import next_number
from domain.users import User
from kernel.clock import utcnow
from kernel.errors import Conflict, ExpectedVersion, NotFound, ValidationFailed, require_version
from kernel.principal import Principal


def create_customer(session: Session, who: Principal, data: dict, home_country: str) -> Customer:
    require_creator(who)
    data = dict(data)
    main_address = data.pop("main_address", None)
    if data.get("owner") is None and "sales" in who.groups:
        data["owner"] = who.username
    if data.get("country") is None:
        data["country"] = home_country
    customer = Customer(**data)
    note_terms_setter(customer, who, data)
    _validate(session, customer, home_country)
    customer.number = next_number(session, CUSTOMER_NUMBERS)
    session.add(customer)
    session.flush()
    if main_address:
        session.add(Address(customer_id=customer.id, **{**main_address, "kind": "main", "is_default": True}))
        session.flush()
    refresh_search_text(session, customer)
    return customer


def update_customer(session: Session, who: Principal, customer_id: int, changes: dict, home_country: str,
                    expected_version: ExpectedVersion = None) -> Customer:
    customer = editable_customer(session, who, customer_id)
    require_version(f"customer {customer.number}", customer.version, expected_version)
    for field in ("preferred_contact_id", "preferred_site_id"):
        if changes.get(field) is not None:
            _require_own(session, Contact if field == "preferred_contact_id" else Site, changes[field], customer.id,
                         field)
    for name, value in changes.items():
        if name != "status":
            setattr(customer, name, value)
    if "status" in changes:  # its lifecycle moves it (staff may set any of its states)
        change_state(session, customer, changes["status"])
    note_terms_setter(customer, who, changes)
    _validate(session, customer, home_country)
    refresh_search_text(session, customer)
    return customer


TERMS = ("payment_days", "skonto_percent", "skonto_days", "credit_limit")


def note_terms_setter(customer: Customer, who: Principal, fields: dict) -> None:
    """Payment terms and the credit limit are what the offer approval measures offers against: set
    by a manager they count, set by anyone else the company's standard terms count instead
    (domain.offers.approval.facts), so that no salesperson approves their own terms."""
    if any(name in fields for name in TERMS):
        customer.terms_approved_by = who.username if who.has_any(*EDIT_ALL_ROLES) else None


def add_site(session: Session, who: Principal, customer_id: int, data: dict, home_country: str) -> Site:
    customer = editable_customer(session, who, customer_id)
    site = Site(customer_id=customer.id, **data)
    if site.vat_id:
        site.vat_id = _valid_vat_id(site.vat_id, customer.country)
    if site.tax_treatment:
        _raise_if(check_tax_treatment(site.tax_treatment, customer.country, site.vat_id or customer.vat_id,
                                      home_country))
    session.add(site)
    session.flush()
    return site


def add_address(session: Session, who: Principal, customer_id: int, data: dict) -> Address:
    customer = editable_customer(session, who, customer_id)
    address = Address(customer_id=customer.id, **data)
    if address.site_id is not None:
        _require_own(session, Site, address.site_id, customer.id, "site_id")
    if address.kind == "main":
        if session.scalar(select(Address.id).where(Address.customer_id == customer.id, Address.kind == "main")):
            raise Conflict("the customer has a main address already; change that one")
        address.is_default = True
    if address.is_default:  # one default per kind (and site)
        same_site = Address.site_id.is_(None) if address.site_id is None else Address.site_id == address.site_id
        session.execute(update(Address).where(Address.customer_id == customer.id, Address.kind == address.kind,
                                              same_site).values(is_default=False))
    session.add(address)
    session.flush()
    refresh_search_text(session, customer)
    return address


def add_contact(session: Session, who: Principal, customer_id: int, data: dict) -> Contact:
    customer = editable_customer(session, who, customer_id)
    if data.get("receives") is None:  # nobody said: what nobody receives yet (domain.customers.recipients)
        data = {**data, "receives": default_receives(session, customer.id)}
    contact = Contact(customer_id=customer.id, **data)
    if contact.site_id is not None:
        _require_own(session, Site, contact.site_id, customer.id, "site_id")
    if contact.marketing_consent != "unknown":
        contact.consent_changed_at = utcnow()
    session.add(contact)
    session.flush()
    if customer.preferred_contact_id is None:
        customer.preferred_contact_id = contact.id
    refresh_search_text(session, customer)
    return contact


def update_contact(session: Session, who: Principal, contact_id: int, changes: dict,
                   expected_version: ExpectedVersion = None) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    customer = editable_customer(session, who, contact.customer_id, ("contact", contact_id))
    require_version(f"contact {contact_id}", contact.version, expected_version)
    if "marketing_consent" in changes and changes["marketing_consent"] != contact.marketing_consent:
        contact.consent_changed_at = utcnow()
    if changes.get("site_id") is not None:
        _require_own(session, Site, changes["site_id"], customer.id, "site_id")
    for name, value in changes.items():
        setattr(contact, name, value)
    refresh_search_text(session, customer)
    return contact


def refresh_search_text(session: Session, customer: Customer) -> None:
    """What the full-text search of the customer list looks at, in lower case."""
    session.flush()
    contacts = session.execute(select(Contact.first_name, Contact.last_name, Contact.email)
                               .where(Contact.customer_id == customer.id)).all()
    cities = session.scalars(select(Address.city).where(Address.customer_id == customer.id)).all()
    parts = [customer.number, customer.name, customer.vat_id, *cities]
    for first, last, email in contacts:
        parts += [first, last, email]
    text = " ".join(p for p in parts if p).lower()
    if text != customer.search_text:
        customer.search_text = text
    session.flush()  # the caller answers with the customer as stored (its version included)


# ----------------------------------------------------------------- checks
def _validate(session: Session, customer: Customer, home_country: str) -> None:
    with session.no_autoflush:  # judge the changes before the database sees them
        _raise_if(_errors(session, customer, home_country))


def _errors(session: Session, customer: Customer, home_country: str) -> list[dict]:
    errors = []
    if customer.vat_id:
        normalized, problem = normalize_vat_id(customer.vat_id, customer.country)
        if problem:
            errors.append({"field": "vat_id", "message": problem})
        else:
            customer.vat_id = normalized
    if not errors:  # the tax treatment is judged on a valid VAT ID only
        errors += check_tax_treatment(customer.tax_treatment, customer.country, customer.vat_id, home_country)
    errors += check_payment_terms(customer.payment_days, customer.skonto_percent, customer.skonto_days)
    errors += check_einvoice(customer.einvoice_format, customer.buyer_reference)
    if customer.price_list_id is not None and session.get(PriceList, customer.price_list_id) is None:
        errors.append({"field": "price_list_id", "message": f"no price list {customer.price_list_id}"})
    if customer.owner is not None and session.scalar(select(User.id).where(User.username == customer.owner,
                                                                            User.active.is_(True))) is None:
        errors.append({"field": "owner", "message": f"no active user {customer.owner!r}"})
    return errors


def _valid_vat_id(vat_id: str, country: str) -> str:
    normalized, problem = normalize_vat_id(vat_id, country)
    _raise_if([{"field": "vat_id", "message": problem}] if problem else [])
    return normalized


def _require_own(session: Session, model, record_id: int, customer_id: int, field: str) -> None:
    owner = session.scalar(select(model.customer_id).where(model.id == record_id))
    if owner != customer_id:
        raise ValidationFailed(f"{field} is not one of this customer's",
                               [{"field": field, "message": f"{record_id} does not belong to this customer"}])


def _raise_if(errors: list[dict]) -> None:
    if errors:
        raise ValidationFailed("the customer data is not valid", errors)


def activate_for_business(session: Session, customer_id: int, actor: str, reason: str,
                          params: dict | None = None) -> None:
    """A customer who does business with the company (an opportunity won, an order) is an active
    customer: a lead, or a passive customer, becomes active, with a trace that says why. Locks the
    customer's row, so that two such events at once activate it once."""
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None or customer.status == "active" or customer.merged_into_id is not None:
        return
    change_state(session, customer, "active", TraceEntry(
        "customer_activated", actor, f"active customer since {reason} (was {customer.status})",
        customer_id=customer.id,
        details={"params": {**params, "was": {"word": customer.status}}} if params else {}))

