"""Tokens end with the password they were issued under: a password change, a deactivation and "log
out everywhere" raise the user's token version, and the API refuses every older token, on SQLite
and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from domain.security_events import SecurityEvent
from domain.users import User, add_user, change_password, deactivate_user, log_out_everywhere
from kernel.errors import ValidationFailed
from kernel.principal import SYSTEM
from tests.test_api_security import assert_error_shape

PASSWORD = "first-password-1"


@pytest.fixture
def user(kontor) -> str:
    """A user of this test alone (users outlive a test; the shared ones must keep their tokens)."""
    name = f"pat-{uuid.uuid4().hex[:8]}"
    with kontor.transaction() as session:
        add_user(session, name, PASSWORD, ["sales"])
    return name


def token_of(client, name: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def answer(client, token: str):
    return client.get("/api/v1/process-definitions", headers={"Authorization": f"Bearer {token}"})


def refused(client, token: str, why: str) -> bool:
    response = answer(client, token)
    return response.status_code == 401 and why in assert_error_shape(response, "unauthenticated")["message"]


def change(kontor, name: str, old: str, new: str) -> None:
    with kontor.transaction() as session:
        change_password(session, session.scalar(select(User).where(User.username == name)), old, new,
                        gate=kontor.password_gate)


def audit(kontor, name: str) -> list[tuple]:
    with kontor.transaction() as session:
        return [(e.kind, e.actor) for e in session.scalars(
            select(SecurityEvent).where(SecurityEvent.username == name).order_by(SecurityEvent.id))]


def test_a_password_change_ends_every_token_issued_before(kontor, client, user):
    first, second = token_of(client, user), token_of(client, user)
    assert answer(client, first).status_code == 200
    change(kontor, user, PASSWORD, "second-password-2")
    assert refused(client, first, "revoked") and refused(client, second, "revoked")
    assert client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD}).status_code == 401
    assert answer(client, token_of(client, user, "second-password-2")).status_code == 200
    assert audit(kontor, user) == [("password_changed", None), ("login_failed", None)]


@pytest.mark.parametrize("old, new, field", [("wrong-password", "second-password-2", "current_password"),
                                             (PASSWORD, "short", "new_password"),
                                             (PASSWORD, PASSWORD, "new_password")])
def test_a_refused_password_change_changes_nothing(kontor, client, user, old, new, field):
    token = token_of(client, user)
    with pytest.raises(ValidationFailed) as refusal:
        change(kontor, user, old, new)
    assert [detail["field"] for detail in refusal.value.details] == [field]
    assert answer(client, token).status_code == 200
    assert token_of(client, user)


def test_deactivation_ends_every_token_even_after_reactivation(kontor, client, user):
    token = token_of(client, user)
    with kontor.transaction() as session:
        deactivate_user(session, session.scalar(select(User).where(User.username == user)), by=SYSTEM)
    assert refused(client, token, "inactive")
    assert client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD}).status_code == 401
    with kontor.transaction() as session:
        session.scalar(select(User).where(User.username == user)).active = True
    assert refused(client, token, "revoked")
    assert answer(client, token_of(client, user)).status_code == 200
    assert audit(kontor, user) == [("user_deactivated", "system"), ("login_failed", None)]


def test_log_out_everywhere_ends_the_earlier_tokens_and_a_new_login_works(kontor, client, user):
    tokens = [token_of(client, user) for _ in range(2)]
    with kontor.transaction() as session:
        log_out_everywhere(session, session.scalar(select(User).where(User.username == user)))
    assert all(refused(client, token, "revoked") for token in tokens)
    assert answer(client, token_of(client, user)).status_code == 200
    assert audit(kontor, user) == [("logged_out_everywhere", None)]


def test_each_revocation_counts_even_within_one_transaction(kontor, user):
    with kontor.transaction() as session:
        row = session.scalar(select(User).where(User.username == user))
        before = row.token_version
        log_out_everywhere(session, row)
        log_out_everywhere(session, row)
        assert row.token_version == before + 2
