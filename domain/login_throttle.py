"""Throttling of failed logins, per client address and per account name, kept in the database so
that every API process sees the same counts.

Each key (an address, an account name) has a weight of recent failures: every failure adds one, and
one failure is forgiven every `forgive_seconds` (a leaky bucket: a sliding window without a row per
attempt; a failure counts until it is wholly forgiven). Once the failures reach the free allowance,
the next attempt has to wait `base * 2 ** (failures - free)` seconds after the last failure, at most
`max` seconds. A login refused for waiting
is not checked and not counted, so hammering a blocked key changes nothing.

Why a real user is never locked out for good: every wait ends after at most `max` seconds, the
weights drain by themselves, a successful login from an address clears that address, and an account
allows more failures than an address: one address that retries whenever it may settles at one
failure per `forgive_seconds` with a weight near `free_per_address + log2(max / base)` (15 with the
defaults), below the account's allowance (30), so one attacker's address cannot block the account for
the user at another address; only many addresses together slow an account down, and not for the
user at an address they logged in from before (within `trust_seconds`): there the account's failures
do not count, only that address's own.

Cost per attempt: one read of at most two rows by primary key; a failure adds one upsert of both rows
(its arithmetic done by the database, so that concurrent failures all count); a success after
failures deletes the address's row. Times in this table are seconds since the epoch (UTC) because the
database computes with them, the same way on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Double, String, case, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base, dialect_insert

IPV6_PREFIX = 64  # one IPv6 subscriber gets a /64: its addresses count as one


class LoginTrustedAddress(Base):
    """An address an account logged in from: failures from elsewhere do not slow the account there."""
    __tablename__ = "login_trusted_address"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of account and address
    last_login_at: Mapped[float] = mapped_column(Double)  # seconds since the epoch, UTC


class LoginThrottle(Base):
    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of kind and address or name
    failures: Mapped[float] = mapped_column(Double)  # weight at the last failure, before forgiving
    last_failure_at: Mapped[float] = mapped_column(Double)  # seconds since the epoch, UTC


@dataclass(frozen=True)
class ThrottleRules:
    free_per_address: int = 5
    free_per_account: int = 30
    delay_base_seconds: float = 1.0
    delay_max_seconds: float = 900.0
    forgive_seconds: float = 900.0
    trust_seconds: float = 30 * 86400.0

    @classmethod
    def of(cls, settings) -> ThrottleRules:
        return cls(settings.login_free_failures_per_address, settings.login_free_failures_per_account,
                   settings.login_delay_base_seconds, settings.login_delay_max_seconds,
                   settings.login_forgive_seconds, settings.login_trusted_address_days * 86400.0)

    def delay_after(self, failures: float, free: int) -> float:
        """Seconds the next attempt waits after a failure that left this weight. A failure counts
        until it is wholly forgiven: the weight is rounded up (rounding noise aside)."""
        counted = math.ceil(failures - 1e-6)
        if counted < free:
            return 0.0
        return min(self.delay_max_seconds, self.delay_base_seconds * 2 ** min(counted - free, 64))


@dataclass(frozen=True)
class ThrottleKeys:
    address: str
    account: str
    trusted: str  # this account at this address


@dataclass(frozen=True)
class ThrottleState:
    wait_seconds: float  # 0: the attempt may go ahead
    address_has_failures: bool
    trusted_since: float | None = None  # the last login of this account from this address, if trusted

    def trust_is_fresh(self, now: datetime) -> bool:
        """Whether the address's trust was renewed within the last day (else a success renews it)."""
        return self.trusted_since is not None and now.timestamp() - self.trusted_since < 86400


def address_group(client_address: str) -> str:
    """What counts as one client: an IPv4 address, an IPv6 /64 network, or the text as given."""
    try:
        address = ipaddress.ip_address(client_address)
    except ValueError:
        return client_address
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


def keys_for(username: str, client_address: str) -> ThrottleKeys:
    group = address_group(client_address)
    return ThrottleKeys(address=_key("address", group), account=_key("account", username),
                        trusted=_key("trusted", f"{username}\0{group}"))


def read_state(session: Session, keys: ThrottleKeys, rules: ThrottleRules, now: datetime) -> ThrottleState:
    rows = session.execute(select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.last_failure_at)
                           .where(LoginThrottle.key.in_([keys.address, keys.account]))).all()
    clock = now.timestamp()
    trusted = session.scalar(select(LoginTrustedAddress.last_login_at).where(LoginTrustedAddress.key == keys.trusted))
    trusted = trusted if trusted is not None and clock - trusted < rules.trust_seconds else None
    wait = 0.0
    for key, failures, last_failure_at in rows:
        if key == keys.account and trusted is not None:
            continue  # the user's own address: others' failures on the account do not hold it up
        free = rules.free_per_address if key == keys.address else rules.free_per_account
        wait = max(wait, last_failure_at + rules.delay_after(failures, free) - clock)
    return ThrottleState(wait, any(key == keys.address for key, _, _ in rows), trusted)


def record_failure(session: Session, keys: ThrottleKeys, rules: ThrottleRules, now: datetime) -> None:
    """One more failure for the address and the account: the stored weight, less what has been forgiven
    since its last failure (never below zero), plus one."""
    table = LoginThrottle.__table__
    clock = now.timestamp()
    insert = dialect_insert(session, LoginThrottle).values(
        [{"key": key, "failures": 1.0, "last_failure_at": clock} for key in (keys.address, keys.account)])
    left = table.c.failures - (insert.excluded.last_failure_at - table.c.last_failure_at) / rules.forgive_seconds
    session.execute(insert.on_conflict_do_update(index_elements=[table.c.key], set_={
        "failures": case((left > 0, left), else_=0.0) + 1.0,
        "last_failure_at": insert.excluded.last_failure_at}))


def remember_success(session: Session, keys: ThrottleKeys, now: datetime) -> None:
    """A successful login from this address: its failures no longer count (the account's still do,
    elsewhere), and the account trusts the address."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.address))
    insert = dialect_insert(session, LoginTrustedAddress).values(key=keys.trusted, last_login_at=now.timestamp())
    session.execute(insert.on_conflict_do_update(index_elements=[LoginTrustedAddress.__table__.c.key],
                                                 set_={"last_login_at": insert.excluded.last_login_at}))
