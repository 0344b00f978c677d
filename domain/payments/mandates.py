"""SEPA direct debit mandates of customers: recorded and revoked by accounting (or a manager), read by
every member of staff, and by the customer's own portal users with the IBAN masked (they know their
account; someone looking over their shoulder need not).

The IBAN is checked (check digits, length, country, bank code where schwifty knows it) and kept in
compact form; a BIC, when given, is checked too. A bad value is refused naming its field."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer
from domain.invoicing.access import INVOICING_ROLES
from domain.lifecycle import change_state
from domain.payments.mandate_models import MANDATE_LIFECYCLE, Mandate
from domain.payments.sepa_debit import SEPA_ID, SepaDataError, check_bic, check_iban
from kernel.clock import utcnow
from kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kernel.principal import Principal


@dataclass(frozen=True)
class MandateInput:
    reference: str
    signed_on: date
    debtor_name: str
    iban: str
    bic: str | None = None
    scheme: str = "CORE"


def require_accounting(who: Principal, what: str = "direct debits") -> None:
    """Collections and their mandates are accounting's (and managers'); a portal user finds none."""
    if who.is_portal:
        raise NotFound(f"no {what} here")
    if not who.has_any(*INVOICING_ROLES):
        raise Forbidden(f"{what} are kept by accounting or a manager")


def masked_iban(iban: str) -> str:
    """DE89 **** **** **** **30 00: the country, the check digits and the last four characters."""
    hidden = iban[:4] + "*" * (len(iban) - 8) + iban[-4:]
    return " ".join(hidden[i:i + 4] for i in range(0, len(hidden), 4))


def create_mandate(session: Session, who: Principal, customer_id: int, data: MandateInput, today: date) -> Mandate:
    readable_customer(session, who, customer_id)
    require_accounting(who, "mandates")
    errors = []
    iban = bic = None
    try:
        iban = check_iban(data.iban)
    except SepaDataError as error:
        errors.append({"field": "iban", "message": str(error)})
    if data.bic:
        try:
            bic = check_bic(data.bic)
        except SepaDataError as error:
            errors.append({"field": "bic", "message": str(error)})
    if not SEPA_ID.match(data.reference):
        errors.append({"field": "reference", "message": "1–35 characters: letters, digits and / - ? : ( ) . , ' +"})
    if data.signed_on > today:
        errors.append({"field": "signed_on", "message": "a mandate is recorded once it is signed, not before"})
    if errors:
        raise ValidationFailed("the mandate is not valid", errors)
    if session.scalar(select(Mandate.id).where(Mandate.reference == data.reference)) is not None:
        raise Conflict(f"mandate reference {data.reference} is taken")
    mandate = Mandate(customer_id=customer_id, reference=data.reference, signed_on=data.signed_on,
                      debtor_name=data.debtor_name, iban=iban, bic=bic, scheme=data.scheme,
                      status=MANDATE_LIFECYCLE.initial, created_by=who.username)
    session.add(mandate)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same reference recorded at the same moment by someone else
        raise Conflict(f"mandate reference {data.reference} is taken") from None
    return mandate


def mandates_of(session: Session, who: Principal, customer_id: int) -> list[Mandate]:
    """Every mandate of the customer, newest first: staff and the customer's own portal users."""
    readable_customer(session, who, customer_id)
    if not who.is_portal and not who.is_staff:
        raise Forbidden("mandates are for staff and the customer's portal users")
    return list(session.scalars(select(Mandate).where(Mandate.customer_id == customer_id)
                                .order_by(Mandate.id.desc())))


def revoke_mandate(session: Session, who: Principal, mandate_id: int) -> Mandate:
    """The mandate collects nothing more; runs made before keep naming it. Revoking twice is no change."""
    mandate = session.get(Mandate, mandate_id, with_for_update=True)
    if mandate is None:
        raise NotFound(f"mandate {mandate_id} not found")
    readable_customer(session, who, mandate.customer_id, ("mandate", mandate_id))
    require_accounting(who, "mandates")
    if mandate.status != "revoked":
        mandate.revoked_at, mandate.revoked_by = utcnow(), who.username
        change_state(session, mandate, "revoked")
        session.flush()
    return mandate


def mandate_view(mandate: Mandate, who: Principal) -> dict:
    """The mandate as this user may see it: the IBAN masked for portal users; how its next collection goes."""
    return {**{column.key: getattr(mandate, column.key) for column in Mandate.__table__.columns},
            "iban": masked_iban(mandate.iban) if who.is_portal else mandate.iban,
            "next_sequence_type": "FRST" if mandate.first_run_id is None else "RCUR"}
