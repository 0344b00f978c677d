"""Users, their groups (roles and lanes alike) and their passwords.

A user's tokens carry `token_version`; a password change, a deactivation and "log out everywhere"
raise it, and the API refuses every token that carries an older one."""
from __future__ import annotations

import re
from contextlib import nullcontext as _no_gate
from datetime import datetime

from sqlalchemy import ForeignKey, String, false, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import domain.customers.models  # noqa: F401  (the customer table portal users belong to)
from domain.passwords import PasswordGate, hash_password, new_password_problems, password_matches
from domain.security_events import LOGGED_OUT_EVERYWHERE, PASSWORD_CHANGED, USER_DEACTIVATED, record_event
from kernel.clock import utcnow
from kernel.db import Base
from kernel.errors import Conflict, NotFound, ValidationFailed
from kernel.principal import Principal, normalize_group

GROUP_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")
RESERVED_NAMES = ("cli", "system")  # the audit's names for the command line and Kontor itself
# ASCII only: a Cyrillic "сli" or a fullwidth "ｃｌｉ" would pass for the command line in the audit
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
PORTAL = "portal"


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    # A one-time password (set by an administrator) is changed at the next login before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    groups: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Tokens carry it; raised by a password change, a deactivation and "log out everywhere".
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Raised by every change an administrator makes (domain.user_admin); a change names the one it read.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Portal users belong to one customer and see nothing of any other.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", name="fk_app_user_customer"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def group_problems(groups: list[str], customer_id: int | None) -> tuple[list[str], list[dict]]:
    """The groups as stored (normalized, sorted, once each) and what is wrong with them: a portal
    user belongs to one customer and has no other role; a member of staff belongs to none."""
    normalized = sorted({normalize_group(g) for g in groups if g.strip()})
    errors = [{"field": "groups", "message": f"{g!r} is no group name: a letter, then letters, digits or _ "
                                             f"(at most 50)"} for g in normalized if not GROUP_NAME.fullmatch(g)]
    if not normalized:
        errors.append({"field": "groups", "message": "at least one group, e.g. sales or portal"})
    if PORTAL in normalized and customer_id is None:
        errors.append({"field": "customer", "message": "a portal user belongs to one customer: name it (its "
                                                       "number, e.g. V-000012, or its id)"})
    if PORTAL not in normalized and customer_id is not None:
        errors.append({"field": "customer", "message": "only portal users belong to a customer; staff users "
                                                       "have none"})
    if PORTAL in normalized and len(normalized) > 1:
        errors.append({"field": "groups", "message": "a portal user has no other group"})
    return normalized, errors


def add_user(session: Session, username: str, password: str, groups: list[str],
             full_name: str | None = None, email: str | None = None, customer_id: int | None = None, *,
             phone: str | None = None, must_change_password: bool = False) -> User:
    username = username.strip()
    errors = []
    if not USERNAME.fullmatch(username):
        errors.append({"field": "username", "message": "1 to 100 characters: letters A-Z and a-z, digits and "
                                                       ". _ @ + -, beginning with a letter or digit"})
    elif username.lower() in RESERVED_NAMES:
        errors.append({"field": "username", "message": f"{username!r} is reserved: the audit's name for the "
                                                       f"command line and for Kontor itself"})
    errors += new_password_problems(password)
    normalized, group_errors = group_problems(groups, customer_id)
    errors += group_errors
    if errors:
        raise ValidationFailed("invalid user", errors)
    same = session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))
    if same is not None:  # Admin beside admin would read as one person in every audit and task list
        raise Conflict(f"user {username!r} exists already" if same == username
                       else f"user {same!r} exists already; user names differ in more than case")
    user = User(username=username, full_name=full_name, email=email, phone=phone,
                password_hash=hash_password(password), must_change_password=must_change_password,
                groups=normalized, customer_id=customer_id)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None. Neither throttled nor audited: the API
    logs in through domain.login.log_in."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    return user if password_matches(user.password_hash if user else None, password) else None


def end_tokens(session: Session, user: User) -> None:
    """Every token issued to the user so far stops working (the database adds one: two changes at
    the same time both count)."""
    user.token_version = User.token_version + 1
    session.flush()


def change_password(session: Session, user: User, old: str, new: str, *, gate: PasswordGate | None = None,
                    client_address: str | None = None) -> None:
    """The user's own change: the current password must be right, the new one long enough and
    different. Ends every token issued before (the caller issues a new one if it wants). An API
    offering this should count a wrong current password as a failed login (domain.login_throttle),
    or a stolen token becomes a way to guess the password."""
    with gate.slot() if gate is not None else _no_gate():
        if not password_matches(user.password_hash, old):
            raise ValidationFailed("the current password is wrong",
                                   [{"field": "current_password", "message": "is not the current password"}])
        errors = new_password_problems(new, "new_password", current=old)
        if errors:
            raise ValidationFailed("invalid new password", errors)
        user.password_hash = hash_password(new)
        user.must_change_password = False
    end_tokens(session, user)
    record_event(session, PASSWORD_CHANGED, user.username, client_address=client_address)


def deactivate_user(session: Session, user: User, *, by: Principal) -> None:
    """The user can no longer log in, and every token issued to them stops working at once."""
    user.active = False
    end_tokens(session, user)
    record_event(session, USER_DEACTIVATED, user.username, actor=by.username)


def log_out_everywhere(session: Session, user: User, *, by: Principal | None = None,
                       client_address: str | None = None) -> None:
    """Every token issued to the user so far stops working; a new login works as before."""
    end_tokens(session, user)
    record_event(session, LOGGED_OUT_EVERYWHERE, user.username, client_address=client_address,
                 actor=by.username if by is not None and by.username != user.username else None)


def principal_of(user: User) -> Principal:
    return Principal(user.username, frozenset(user.groups or []), user.customer_id)


def active_principal(session: Session, username: str) -> Principal | None:
    """The active user of this name as who they act as, or None."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    return principal_of(user) if user is not None else None


def profile(session: Session, username: str) -> dict:
    """What a user sees of themselves (/me): name, contact data, groups and, for portal users, the customer."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"there is no user {username!r}")
    customer = session.get(domain.customers.models.Customer, user.customer_id) if user.customer_id else None
    return {"username": user.username, "full_name": user.full_name, "email": user.email, "phone": user.phone,
            "groups": list(user.groups or []), "customer_id": user.customer_id,
            "customer_number": customer.number if customer else None,
            "customer_name": customer.name if customer else None,
            "must_change_password": user.must_change_password}
