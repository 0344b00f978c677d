"""Users, their groups (roles and lanes alike) and their passwords."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import domain.customers.models  # noqa: F401  (the customer table portal users belong to)
from kontor.db import Base, utcnow
from runtime.groups import normalize_group
from runtime.errors import Conflict, ValidationFailed

ROLES = ("sales", "approver", "manager", "ops", "admin", "portal")
STAFF_ROLES = ("sales", "approver", "manager", "ops", "admin", "reviewer")
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("kontor-no-such-user")


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(300))
    password_hash: Mapped[str] = mapped_column(String(200))
    groups: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Portal users belong to one customer and see nothing of any other.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", name="fk_app_user_customer"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Principal:
    """Who is acting: what the API and the runtime need to know of a user."""
    username: str
    groups: frozenset[str]
    customer_id: int | None = None  # set for portal users only

    def has_any(self, *groups: str) -> bool:
        return "admin" in self.groups or any(g in self.groups for g in groups)

    @property
    def is_portal(self) -> bool:
        return self.customer_id is not None


SYSTEM = Principal("system", frozenset({"admin"}))


def add_user(session: Session, username: str, password: str, groups: list[str],
             full_name: str | None = None, email: str | None = None, customer_id: int | None = None) -> User:
    username = username.strip()
    errors = []
    if not username or len(username) > 100:
        errors.append({"field": "username", "message": "1 to 100 characters"})
    if len(password) < 8:
        errors.append({"field": "password", "message": "at least 8 characters"})
    if ("portal" in groups) != (customer_id is not None):
        errors.append({"field": "customer_id", "message": "portal users, and only they, belong to a customer"})
    if customer_id is not None and set(groups) - {"portal"}:
        errors.append({"field": "groups", "message": "a portal user has no other role"})
    if errors:
        raise ValidationFailed("invalid user", errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already")
    user = User(username=username, full_name=full_name, email=email, password_hash=_hasher.hash(password),
                groups=sorted({normalize_group(g) for g in groups if g.strip()}), customer_id=customer_id)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def principal_of(user: User) -> Principal:
    return Principal(user.username, frozenset(user.groups or []), user.customer_id)
