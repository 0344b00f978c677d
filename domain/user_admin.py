"""Administering users: create them (portal users with the customer they belong to), list and read
them, change their groups, deactivate and reactivate them, set a one-time password; and the audit of
each (domain.security_events). The API (`/users`) and the command line (`kontor user ...`) call
these same functions, as administrators: the API as the signed-in admin, the command line as `CLI`.

Guards against locking everybody out: administrators neither deactivate themselves, nor remove
their own admin group, nor set their own one-time password (they change it under /me), and the
last active administrator stays one."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from domain.customers.models import Customer
from domain.passwords import hash_password, new_password_problems
from domain.security_events import (
    GROUPS_CHANGED,
    PASSWORD_RESET,
    USER_CREATED,
    USER_REACTIVATED,
    SecurityEvent,
    record_event,
)
from domain.users import User, add_user, deactivate_user, end_tokens, group_problems
from kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kernel.listing import PageRequest, like_pattern, page_of
from kernel.principal import Principal

CLI = Principal("cli", frozenset({"admin"}))  # who acts for `kontor user ...` (the audit's actor "cli")
ADMIN = "admin"
USER_SORTS = {"username": User.username, "full_name": User.full_name, "created_at": User.created_at}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CUSTOMER_NUMBER = re.compile(r"V-\d{1,18}")


@dataclass(frozen=True)
class NewUser:
    """A user to create. `customer` (portal users only) is a customer's number (V-000012) or id.
    A one-time password must be changed at the first login."""
    username: str
    password: str
    groups: tuple[str, ...]
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    customer: str | int | None = None
    one_time_password: bool = True


@dataclass(frozen=True)
class UserFilter:
    group: str | None = None
    active: bool | None = True  # None: active and inactive users
    customer_id: int | None = None
    q: str | None = None  # in the user name, the name and the e-mail address


def _admin_only(by: Principal) -> None:
    if not by.has_any(ADMIN) or by.is_portal:
        raise Forbidden("only administrators manage users")


def customer_id_of(session: Session, reference: str | int | None, field: str = "customer") -> int | None:
    """The id of the customer a number (V-000012) or an id (12, also as text) names; None for None."""
    if reference is None or reference == "":
        return None
    text = str(reference).strip()
    if CUSTOMER_NUMBER.fullmatch(text.upper()):
        found = session.scalar(select(Customer.id).where(Customer.number == text.upper()))
    elif text.isdigit() and int(text) < 2**31:
        found = session.scalar(select(Customer.id).where(Customer.id == int(text)))
    else:
        raise ValidationFailed("invalid user", [{"field": field, "message": "a customer's number (e.g. V-000012) "
                                                                            "or id"}])
    if found is None:
        raise ValidationFailed("invalid user", [{"field": field, "message": f"there is no customer {text}"}])
    return found


def create_user(session: Session, by: Principal, new: NewUser) -> User:
    _admin_only(by)
    errors = []
    if new.email is not None and not (EMAIL.fullmatch(new.email) and len(new.email) <= 254):
        errors.append({"field": "email", "message": "not a valid e-mail address"})
    if new.phone is not None and not re.fullmatch(r"\+?[0-9 ()/\-.]{3,40}", new.phone):
        errors.append({"field": "phone", "message": "a phone number: digits, spaces, + ( ) / - ."})
    if new.full_name is not None and len(new.full_name) > 200:
        errors.append({"field": "full_name", "message": "at most 200 characters"})
    if errors:
        raise ValidationFailed("invalid user", errors)
    customer_id = customer_id_of(session, new.customer)
    user = add_user(session, new.username, new.password, list(new.groups), full_name=new.full_name,
                    email=new.email, customer_id=customer_id, phone=new.phone,
                    must_change_password=new.one_time_password)
    record_event(session, USER_CREATED, user.username, actor=by.username,
                 details={"groups": user.groups, "customer_id": customer_id,
                          "one_time_password": new.one_time_password})
    return user


def customer_numbers(session: Session, ids: set[int]) -> dict[int, str]:
    """The numbers of these customers, by id (to show portal users' customers)."""
    if not ids:
        return {}
    return dict(session.execute(select(Customer.id, Customer.number).where(Customer.id.in_(ids))).tuples().all())


def user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"there is no user {user_id}")
    return user


def user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"there is no user {username!r}")
    return user


def list_users(session: Session, by: Principal, wanted: UserFilter, page: PageRequest) -> tuple[list[User], int]:
    _admin_only(by)
    statement = select(User)
    if wanted.active is not None:
        statement = statement.where(User.active.is_(wanted.active))
    if wanted.customer_id is not None:
        statement = statement.where(User.customer_id == wanted.customer_id)
    if wanted.group:
        # the groups are a JSON list of names: its text holds "name" with the quotes
        statement = statement.where(cast(User.groups, String).like(like_pattern(f'"{wanted.group}"'), escape="\\"))
    if wanted.q:
        pattern = like_pattern(wanted.q)
        statement = statement.where(or_(*(func.lower(column).like(pattern, escape="\\")
                                          for column in (User.username, User.full_name, User.email))))
    return page_of(session, statement, page, USER_SORTS, User.id)


def _changed(session: Session, user: User, expected_version: int | None) -> None:
    """Counts a change by an administrator: the version the caller read must still be the user's
    (checked in the database, so that of two changes at once one gets 409)."""
    seen = user.version if expected_version is None else expected_version
    done = session.execute(update(User).where(User.id == user.id, User.version == seen).values(version=seen + 1)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"user {user.username} was changed meanwhile (version {user.version}, you read "
                       f"{seen}); reload and try again", version=user.version)
    set_committed_value(user, "version", seen + 1)


def _other_active_admins(session: Session, user: User) -> int:
    """Counted under a lock of every active user's row (groups are JSON: no portable filter on them),
    so that two administrators demoting or deactivating each other at once on PostgreSQL wait for
    each other and the second finds the first's change: never zero administrators."""
    active = session.execute(select(User.id, User.groups).where(User.active.is_(True)).with_for_update()).all()
    return len([row for row in active if row.id != user.id and ADMIN in (row.groups or [])])


def _keep_an_admin(session: Session, by: Principal, user: User, what: str) -> None:
    if by.username == user.username:
        raise ValidationFailed(f"you cannot {what} yourself", [{"field": "user", "message": f"administrators cannot "
                                                                 f"{what} themselves: ask another administrator"}])
    if user.active and ADMIN in (user.groups or []) and _other_active_admins(session, user) == 0:
        raise ValidationFailed(f"{user.username} is the last active administrator",
                               [{"field": "user", "message": "the last active administrator stays one"}])


def set_groups(session: Session, by: Principal, user: User, groups: list[str],
               expected_version: int | None = None) -> User:
    """The user's groups become these (a portal user's stay `portal`, staff get no `portal`)."""
    _admin_only(by)
    normalized, errors = group_problems(groups, user.customer_id)
    if errors:
        raise ValidationFailed("invalid groups", errors)
    if expected_version is not None and expected_version != user.version:
        raise Conflict(f"user {user.username} was changed meanwhile (version {user.version}, you read "
                       f"{expected_version}); reload and try again", version=user.version)
    before = list(user.groups or [])
    if normalized == before:
        return user
    if ADMIN in before and ADMIN not in normalized:
        _keep_an_admin(session, by, user, "remove the admin group of")
    _changed(session, user, expected_version)
    user.groups = normalized
    record_event(session, GROUPS_CHANGED, user.username, actor=by.username,
                 details={"from": before, "to": normalized})
    session.flush()
    return user


def deactivate(session: Session, by: Principal, user: User) -> User:
    """The user can no longer log in; every token issued to them stops working at once."""
    _admin_only(by)
    if user.active:
        _keep_an_admin(session, by, user, "deactivate")
        _changed(session, user, None)
        deactivate_user(session, user, by=by)
    return user


def reactivate(session: Session, by: Principal, user: User) -> User:
    """The user may log in again; tokens from before the deactivation stay void."""
    _admin_only(by)
    if not user.active:
        _changed(session, user, None)
        user.active = True
        record_event(session, USER_REACTIVATED, user.username, actor=by.username)
        session.flush()
    return user


def set_one_time_password(session: Session, by: Principal, user: User, password: str) -> User:
    """The user's password becomes this one, to be changed at the next login; every token issued to
    them so far stops working."""
    _admin_only(by)
    if by.username == user.username:
        raise ValidationFailed("change your own password under /me", [{
            "field": "user", "message": "administrators change their own password themselves (POST /api/v1/me/"
                                        "password or the login's change), not by a one-time password"}])
    errors = new_password_problems(password)
    if errors:
        raise ValidationFailed("invalid password", errors)
    _changed(session, user, None)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_tokens(session, user)
    record_event(session, PASSWORD_RESET, user.username, actor=by.username, details={"one_time": True})
    return user


def audit_of(session: Session, by: Principal, user: User, page: PageRequest,
             kind: str | None = None) -> tuple[list[SecurityEvent], int]:
    """The security audit of the user: failed logins under their name and every change, newest first."""
    _admin_only(by)
    statement = select(SecurityEvent).where(SecurityEvent.username == user.username)
    if kind is not None:
        statement = statement.where(SecurityEvent.kind == kind)
    return page_of(session, statement, page, {"at": SecurityEvent.at}, SecurityEvent.id)
