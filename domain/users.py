"""Users, their groups (roles and lanes alike) and their passwords.

A user's tokens carry `token_version`; a password change, a deactivation and "log out everywhere"
raise it, and the API refuses every token that carries an older one."""
from __future__ import annotations

from contextlib import nullcontext as _no_gate
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import domain.customers.models  # noqa: F401  (the customer table portal users belong to)
from domain.passwords import MIN_LENGTH, PasswordGate, hash_password, password_matches
from domain.security_events import LOGGED_OUT_EVERYWHERE, PASSWORD_CHANGED, USER_DEACTIVATED, record_event
from kernel.clock import utcnow
from kernel.db import Base
from kernel.errors import Conflict, ValidationFailed
from kernel.principal import Principal, normalize_group


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))  # printed with the name on documents they send
    password_hash: Mapped[str] = mapped_column(String(200))
    groups: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Tokens carry it; raised by a password change, a deactivation and "log out everywhere".
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Portal users belong to one customer and see nothing of any other.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", name="fk_app_user_customer"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)




def add_user(session: Session, username: str, password: str, groups: list[str],
             full_name: str | None = None, email: str | None = None, customer_id: int | None = None,
             phone: str | None = None) -> User:
    username = username.strip()
    errors = []
    if not username or len(username) > 100:
        errors.append({"field": "username", "message": "1 to 100 characters"})
    if len(password) < MIN_LENGTH:
        errors.append({"field": "password", "message": f"at least {MIN_LENGTH} characters"})
    if ("portal" in groups) != (customer_id is not None):
        errors.append({"field": "customer_id", "message": "portal users, and only they, belong to a customer"})
    if customer_id is not None and set(groups) - {"portal"}:
        errors.append({"field": "groups", "message": "a portal user has no other role"})
    if errors:
        raise ValidationFailed("invalid user", errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already")
    user = User(username=username, full_name=full_name, email=email, phone=phone, password_hash=hash_password(password),
                groups=sorted({normalize_group(g) for g in groups if g.strip()}), customer_id=customer_id)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None. Neither throttled nor audited: the API
    logs in through domain.login.log_in."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    return user if password_matches(user.password_hash if user else None, password) else None


def _end_tokens(session: Session, user: User) -> None:
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
        errors = []
        if len(new) < MIN_LENGTH:
            errors.append({"field": "new_password", "message": f"at least {MIN_LENGTH} characters"})
        elif new == old:
            errors.append({"field": "new_password", "message": "is the current password"})
        if errors:
            raise ValidationFailed("invalid new password", errors)
        user.password_hash = hash_password(new)
    _end_tokens(session, user)
    record_event(session, PASSWORD_CHANGED, user.username, client_address=client_address)


def deactivate_user(session: Session, user: User, *, by: Principal) -> None:
    """The user can no longer log in, and every token issued to them stops working at once."""
    user.active = False
    _end_tokens(session, user)
    record_event(session, USER_DEACTIVATED, user.username, actor=by.username)


def log_out_everywhere(session: Session, user: User, *, by: Principal | None = None,
                       client_address: str | None = None) -> None:
    """Every token issued to the user so far stops working; a new login works as before."""
    _end_tokens(session, user)
    record_event(session, LOGGED_OUT_EVERYWHERE, user.username, client_address=client_address,
                 actor=by.username if by is not None and by.username != user.username else None)


def principal_of(user: User) -> Principal:
    return Principal(user.username, frozenset(user.groups or []), user.customer_id)


def active_principal(session: Session, username: str) -> Principal | None:
    """The active user of this name as who they act as, or None."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    return principal_of(user) if user is not None else None
