"""Failed logins are throttled per client address and per account, in the database, on SQLite and
PostgreSQL: answered 429 with Retry-After without checking the password, audited, bounded, drained
over time; the client address is the connection's unless a trusted proxy names it; password hashing
is capped per process (503 when no slot frees up)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import domain.login
from domain.login_throttle import ThrottleRules, keys_for, read_state, record_failure
from domain.passwords import PasswordGate
from domain.security_events import SecurityEvent
from kernel.clock import utcnow
from kernel.errors import Busy
from tests.test_api_security import assert_error_shape

LOGIN = "/api/v1/auth/token"
STRICT = {"login_free_failures_per_address": 3, "login_free_failures_per_account": 6,
          "login_delay_base_seconds": 600.0, "trusted_proxies": []}


@pytest.fixture
def strict_logins(kontor):
    """Three failures per address and six per account are free, then a wait of ten minutes: longer
    than any test runs, so a block seen once stays."""
    saved = {name: getattr(kontor.settings, name) for name in STRICT}
    for name, value in STRICT.items():
        setattr(kontor.settings, name, value)
    yield kontor.settings
    for name, value in saved.items():
        setattr(kontor.settings, name, value)


@contextmanager
def client_at(kontor, address: str):
    """An API client whose connection comes from this address."""
    from api.app import create_app

    with TestClient(create_app(kontor), raise_server_exceptions=False, client=(address, 40000)) as client:
        yield client


def log_in(client, password: str, user: str = "olga", headers: dict | None = None):
    return client.post(LOGIN, data={"username": user, "password": password}, headers=headers or {})


@pytest.fixture
def checked_passwords(monkeypatch) -> list[str]:
    """The passwords the login actually hashed, in order."""
    checked = []
    real = domain.login.password_matches

    def counting(stored_hash, password):
        checked.append(password)
        return real(stored_hash, password)

    monkeypatch.setattr(domain.login, "password_matches", counting)
    return checked


def events(kontor) -> list[tuple]:
    with kontor.transaction() as session:
        return [(e.kind, e.username, e.client_address, e.reason) for e in
                session.scalars(select(SecurityEvent).order_by(SecurityEvent.id))]


def test_after_the_free_failures_even_the_right_password_gets_429_unchecked(kontor, strict_logins, checked_passwords):
    with client_at(kontor, "198.51.100.7") as attacker:
        assert [log_in(attacker, f"guess-{n}").status_code for n in range(3)] == [401, 401, 401]
        refused = log_in(attacker, "olga-password")
        assert refused.status_code == 429, refused.text
        assert "try again" in assert_error_shape(refused, "too_many_attempts")["message"]
        assert 1 <= int(refused.headers["retry-after"]) <= 600
        # a header the client writes itself does not make it someone else
        spoofed = log_in(attacker, "olga-password", headers={"X-Forwarded-For": "203.0.113.99"})
        assert spoofed.status_code == 429, spoofed.text
    assert checked_passwords == ["guess-0", "guess-1", "guess-2"]


def test_one_blocked_address_leaves_the_account_open_to_another(kontor, strict_logins):
    with client_at(kontor, "198.51.100.7") as attacker:
        assert [log_in(attacker, f"guess-{n}").status_code for n in range(4)] == [401, 401, 401, 429]
    with client_at(kontor, "192.0.2.10") as user:
        assert log_in(user, "olga-password").status_code == 200


def test_failures_for_one_account_from_many_addresses_throttle_the_account(kontor, strict_logins, checked_passwords):
    for n in range(3):
        with client_at(kontor, f"198.51.100.{n + 1}") as attacker:
            assert [log_in(attacker, f"guess-{n}-{k}").status_code for k in range(2)] == [401, 401]
    with client_at(kontor, "192.0.2.10") as user:
        refused = log_in(user, "olga-password")
        assert refused.status_code == 429 and assert_error_shape(refused, "too_many_attempts")
        assert log_in(user, "sam-password", user="sam").status_code == 200  # other accounts are not affected
    assert "olga-password" not in checked_passwords


def test_failures_from_many_addresses_do_not_lock_the_user_out_where_they_logged_in_before(kontor, strict_logins,
                                                                                          checked_passwords):
    with client_at(kontor, "192.0.2.10") as user:
        assert log_in(user, "olga-password").status_code == 200  # the user's own address, known from now on
    for n in range(3):
        with client_at(kontor, f"198.51.100.{n + 1}") as attacker:
            assert [log_in(attacker, f"guess-{n}-{k}").status_code for k in range(2)] == [401, 401]
    with client_at(kontor, "203.0.113.5") as elsewhere:  # the account is throttled wherever it is new
        assert log_in(elsewhere, "olga-password").status_code == 429
    with client_at(kontor, "192.0.2.10") as user:
        assert log_in(user, "olga-password").status_code == 200
        # the address's own failures still count there
        assert [log_in(user, f"typo-{k}").status_code for k in range(4)] == [401, 401, 401, 429]


def test_a_successful_login_clears_the_failures_of_its_address(kontor, strict_logins):
    with client_at(kontor, "198.51.100.7") as client:
        assert [log_in(client, p).status_code for p in ("typo-1", "typo-2", "olga-password")] == [401, 401, 200]
        # without the reset this would be failures four and five of the address: the third is its limit
        assert [log_in(client, p).status_code for p in ("typo-3", "typo-4", "olga-password")] == [401, 401, 200]


def test_failed_logins_are_audited_with_name_address_time_and_reason(kontor, strict_logins):
    before = utcnow()
    with client_at(kontor, "198.51.100.7") as client:
        assert log_in(client, "wrong-password").status_code == 401
        assert log_in(client, "olga-password", user="nobody").status_code == 401
        assert log_in(client, "olga-password").status_code == 200  # a success is no event
        assert log_in(client, "olga-password", user="ol\x00ga").status_code == 401
    assert events(kontor) == [("login_failed", "olga", "198.51.100.7", "wrong password"),
                              ("login_failed", "nobody", "198.51.100.7", "unknown user"),
                              ("login_failed", "ol?ga", "198.51.100.7", "unknown user")]
    with kontor.transaction() as session:
        times = session.scalars(select(SecurityEvent.at)).all()
    assert all(before <= at <= utcnow() for at in times)


def test_the_address_behind_a_trusted_proxy_is_the_one_the_proxy_names(kontor, strict_logins):
    strict_logins.trusted_proxies = ["203.0.113.0/28"]
    with client_at(kontor, "203.0.113.1") as proxy:
        log_in(proxy, "wrong-1", headers={"X-Forwarded-For": "198.51.100.50"})
        log_in(proxy, "wrong-2", headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.51, 203.0.113.2"})
        log_in(proxy, "wrong-3")  # the proxy itself
    with client_at(kontor, "198.51.100.60") as direct:  # not a proxy of ours: its header is ignored
        log_in(direct, "wrong-4", headers={"X-Forwarded-For": "192.0.2.1"})
    assert [address for _, _, address, _ in events(kontor)] == ["198.51.100.50", "198.51.100.51", "203.0.113.1",
                                                               "198.51.100.60"]


def test_when_every_hashing_slot_stays_taken_a_login_gets_503_with_retry_after(kontor):
    saved = kontor.password_gate
    kontor.password_gate = PasswordGate(slots=1, wait_seconds=0.05)
    try:
        with client_at(kontor, "192.0.2.10") as client:
            with kontor.password_gate.slot():  # a hash in progress that outlasts the wait
                busy = log_in(client, "olga-password")
            assert busy.status_code == 503, busy.text
            assert_error_shape(busy, "busy")
            assert busy.headers["retry-after"] == "1"
            assert log_in(client, "olga-password").status_code == 200
    finally:
        kontor.password_gate = saved
    assert events(kontor) == []  # a login that was never checked is no failed login


def test_logins_waiting_for_a_hashing_slot_are_bounded_the_rest_is_busy_at_once():
    gate = PasswordGate(slots=1, wait_seconds=60)
    gate.WAITING_PER_SLOT = 2
    outcomes: list[str] = []

    def log_in_later() -> None:
        try:
            with gate.slot():
                outcomes.append("hashed")
        except Busy:
            outcomes.append("busy")

    with gate.slot():  # a hash in progress
        callers = [threading.Thread(target=log_in_later) for _ in range(3)]
        for caller in callers:
            caller.start()
        while gate.waiting + len(outcomes) < 3:  # every caller waits or has been answered
            time.sleep(0.01)
        assert (gate.waiting, outcomes) == (2, ["busy"])
    for caller in callers:
        caller.join()
    assert sorted(outcomes) == ["busy", "hashed", "hashed"]


# ----------------------------------------------------------------- the rules, by the clock
RULES = ThrottleRules()  # the defaults of the settings


def wait_for(kontor, keys, now) -> float:
    with kontor.transaction() as session:
        return read_state(session, keys, RULES, now).wait_seconds


def fail(kontor, keys, now) -> None:
    with kontor.transaction() as session:
        record_failure(session, keys, RULES, now)


def test_waits_double_after_the_free_failures_and_stop_at_the_maximum(kontor):
    keys, now = keys_for("olga", "198.51.100.7"), utcnow()
    waits = []
    for _ in range(RULES.free_per_address + 12):
        fail(kontor, keys, now)
        waits.append(round(wait_for(kontor, keys, now), 6))
    free = RULES.free_per_address
    assert waits[:free - 1] == [0.0] * (free - 1)
    assert waits[free - 1:free + 3] == [1.0, 2.0, 4.0, 8.0]
    assert max(waits) == waits[-1] == RULES.delay_max_seconds == 900.0


def test_a_wait_ends_and_the_failures_drain_with_time(kontor):
    keys, now = keys_for("olga", "198.51.100.7"), utcnow()
    for _ in range(40):  # a burst from many processes at once
        fail(kontor, keys, now)
    assert wait_for(kontor, keys, now) == RULES.delay_max_seconds
    assert wait_for(kontor, keys, now + timedelta(seconds=RULES.delay_max_seconds)) == 0
    later = now + timedelta(seconds=40 * RULES.forgive_seconds)
    fail(kontor, keys, later)  # forty failures forgiven: this one is the first again
    assert wait_for(kontor, keys, later) == 0


def test_one_address_retrying_whenever_it_may_never_blocks_the_account_elsewhere(kontor):
    """Two days of an attacker at one address who tries again the moment its wait ends: the user at
    another address is never kept waiting, and the attacker settles at about one guess per
    forgive_seconds."""
    attacker, user = keys_for("olga", "198.51.100.7"), keys_for("olga", "192.0.2.10")
    start = now = utcnow()
    attempts = []
    while now < start + timedelta(days=2):
        waiting = wait_for(kontor, attacker, now)
        assert waiting <= RULES.delay_max_seconds
        now += timedelta(seconds=waiting + 0.001)
        fail(kontor, attacker, now)
        attempts.append(now)
        assert wait_for(kontor, user, now) == 0, (len(attempts), now - start)
    second_day = [at for at in attempts if at >= start + timedelta(days=1)]
    assert len(second_day) <= 24 * 3600 / RULES.forgive_seconds + 2, len(second_day)
