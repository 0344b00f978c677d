"""Logging in with a user name and a password: throttled per client address and per account
(domain.login_throttle), hashed through the process's PasswordGate, audited when it fails.

No transaction is open while the password is hashed: on SQLite every transaction holds the write
lock, and a login that kept it for the length of a hash made every other writer wait. The throttle is
read inside the gate, so the attempts of one burst are counted one after another, not all at once."""
from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.login_throttle import ThrottleRules, keys_for, read_state, record_failure, remember_success
from domain.passwords import PasswordGate, hash_password, new_password_problems, password_matches
from domain.security_events import LOGIN_FAILED, PASSWORD_CHANGED, record_event
from domain.users import User, end_tokens
from kernel.clock import utcnow
from kernel.db import transaction
from kernel.errors import Conflict, TooManyAttempts, ValidationFailed


def _could_exist(username: str) -> bool:
    """False for a name no user can have because no database stores it (NUL, a lone surrogate):
    PostgreSQL refuses even to compare it, SQLite would not, and both must answer alike."""
    return "\x00" not in username and not any(0xD800 <= ord(c) <= 0xDFFF for c in username)


def _not_throttled(session: Session, keys, rules: ThrottleRules, now: datetime):
    """The throttle's state of this address and account; TooManyAttempts while either has to wait."""
    state = read_state(session, keys, rules, now)
    if state.wait_seconds > 0:
        wait = math.ceil(state.wait_seconds)
        raise TooManyAttempts(f"too many failed logins; try again in {wait} seconds", retry_after_seconds=wait)
    return state


def log_in(sessions: sessionmaker[Session], gate: PasswordGate, rules: ThrottleRules, username: str, password: str,
           client_address: str, now: datetime | None = None) -> User | None:
    """The user whose name and password these are, or None (the failure is counted and audited).
    TooManyAttempts, without checking the password, while the address or the account has to wait;
    Busy when no hashing slot frees up in time."""
    keys = keys_for(username, client_address)
    with gate.slot():
        now = now or utcnow()  # after the wait for a slot
        with transaction(sessions) as session:
            state = _not_throttled(session, keys, rules, now)
            user = session.scalar(select(User).where(User.username == username)) if _could_exist(username) else None
        matches = password_matches(user.password_hash if user is not None else None, password)
        if matches and user.active:
            if state.address_has_failures or not state.trust_is_fresh(now):
                with transaction(sessions) as session:
                    remember_success(session, keys, now)
            return user
        reason = "unknown user" if user is None else "inactive user" if matches else "wrong password"
        with transaction(sessions) as session:
            record_failure(session, keys, rules, now)
            record_event(session, LOGIN_FAILED, username, client_address=client_address, reason=reason, at=now)
    return None


def change_own_password(sessions: sessionmaker[Session], gate: PasswordGate, rules: ThrottleRules, username: str,
                        current: str, new: str, client_address: str) -> None:
    """The signed-in user's change of their own password (the API's /me/password): a wrong current
    password counts as a failed login, throttled and audited like one, so that a stolen token is no
    way to guess the password. Ends every token issued before; a one-time password is then done."""
    keys = keys_for(username, client_address)
    with gate.slot():
        now = utcnow()
        with transaction(sessions) as session:
            _not_throttled(session, keys, rules, now)
            stored = session.scalar(select(User.password_hash).where(User.username == username))
        if not password_matches(stored, current):
            with transaction(sessions) as session:
                record_failure(session, keys, rules, now)
                record_event(session, LOGIN_FAILED, username, client_address=client_address,
                             reason="wrong current password at a password change", at=now)
            raise ValidationFailed("the current password is wrong",
                                   [{"field": "current_password", "message": "is not the current password"}])
        errors = new_password_problems(new, "new_password", current=current)
        if errors:
            raise ValidationFailed("invalid new password", errors)
        new_hash = hash_password(new)
    with transaction(sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or user.password_hash != stored:
            raise Conflict("the password was changed meanwhile; log in again")
        user.password_hash, user.must_change_password = new_hash, False
        end_tokens(session, user)
        record_event(session, PASSWORD_CHANGED, username, client_address=client_address)
