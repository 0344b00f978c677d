"""Who sees and who changes customer data. Staff see every customer; a portal user sees only
its own; sales change the customers they own (or that have no owner yet), managers all."""
from __future__ import annotations

from sqlalchemy.orm import Session

from domain.customers.models import Customer
from kernel.errors import Forbidden, NotFound
from kernel.principal import STAFF_ROLES, Principal

EDIT_ALL_ROLES = ("manager", "admin")
CREATE_ROLES = ("sales", "manager")


def may_read_customers(who: Principal) -> bool:
    return who.is_portal or who.has_any(*STAFF_ROLES)


def require_staff(who: Principal, what: str) -> None:
    """Internal records (notes, activities, price lists, uploads): staff roles only, never portal users."""
    if who.is_portal or not who.has_any(*STAFF_ROLES):
        raise Forbidden(f"{what} are for staff")


def require_staff_reader(who: Principal, what: str) -> None:
    """Internal records of customers (offers, orders): staff only; a portal user learns nothing of them."""
    if who.is_portal:
        raise NotFound(f"no {what} here")
    require_staff(who, what)


def readable_record(session: Session, who: Principal, model, record_id: int, what: str):
    """An internal record of a customer (an offer, an order) if this user may read it, else NotFound."""
    record = session.get(model, record_id)
    if record is None or who.is_portal:
        raise NotFound(f"{what} {record_id} not found")
    require_staff(who, f"{what}s")
    readable_customer(session, who, record.customer_id, (what, record_id))
    return record


def readable_customer(session: Session, who: Principal, customer_id: int,
                      record: tuple[str, int] | None = None) -> Customer:
    """The customer, if this user may see it; otherwise NotFound (a portal user does not learn
    whether another customer exists). Looked up for one of its records (`record`: what and its id,
    as the caller asked for it), the refusal names that record, exactly as if it did not exist."""
    customer = session.get(Customer, customer_id)
    if customer is None or not may_read_customers(who) or (who.is_portal and who.customer_id != customer_id):
        what, record_id = record or ("customer", customer_id)
        raise NotFound(f"{what} {record_id} not found")
    return customer


def may_edit(who: Principal, customer: Customer) -> bool:
    if who.is_portal:
        return False
    if who.has_any(*EDIT_ALL_ROLES):
        return True
    return "sales" in who.groups and customer.owner in (None, who.username)


def editable_customer(session: Session, who: Principal, customer_id: int,
                      record: tuple[str, int] | None = None) -> Customer:
    customer = readable_customer(session, who, customer_id, record)
    if customer.merged_into_id is not None:
        raise NotFound(f"customer {customer_id} was merged into customer {customer.merged_into_id}",
                       merged_into=customer.merged_into_id)
    if not may_edit(who, customer):
        if who.is_portal:  # the customer's own staff learn nothing about Kontor's people
            raise Forbidden(f"customer {customer.number} is changed by its salesperson, not in the portal")
        raise Forbidden(f"customer {customer.number} belongs to {customer.owner}; only they or a manager change it")
    return customer


# What Kontor knows about a customer that is not the customer's business: its credit limit, who owns
# it here, and the reasons and authors behind its special conditions.
PORTAL_HIDDEN_CUSTOMER_FIELDS = frozenset({"credit_limit", "owner"})
PORTAL_HIDDEN_CONDITION_FIELDS = frozenset({"note", "created_by"})


def hidden_fields(who: Principal, fields: frozenset[str]) -> frozenset[str]:
    """The internal `fields` that `who` does not see (all of them for a portal user, none for staff)."""
    return fields if who.is_portal else frozenset()


def require_received_mail_reader(session: Session, who: Principal, customer_id: int | None,
                                 open_to_staff: bool = False) -> None:
    """Received mail as it came in (the raw message, its attachments) may carry the proof that
    answers for the customer: the reply token, a Message-ID Kontor made, the answer link. Who may
    edit the customer (and managers) read it; mail of no customer, managers only, unless
    `open_to_staff` (mail known to carry no proof, such as the quarantine's strangers)."""
    if who.is_portal or not who.has_any(*STAFF_ROLES):
        raise Forbidden("received mail is for staff")
    if who.has_any(*EDIT_ALL_ROLES) or (customer_id is None and open_to_staff):
        return
    if customer_id is None:
        raise Forbidden("received mail that belongs to no customer is read as it came in by managers only")
    editable_customer(session, who, customer_id)


def require_creator(who: Principal) -> None:
    if who.is_portal or not who.has_any(*CREATE_ROLES):
        raise Forbidden("creating customers needs the role sales or manager")
