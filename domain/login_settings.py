"""The settings of logging in: how failed logins are throttled (domain.login_throttle) and what a
password hash costs (domain.passwords). The throttle's numbers are checked together, because some
combinations would let one attacker's address lock a user out."""
from __future__ import annotations

import math

from pydantic import Field, model_validator

from kernel.settings import SettingsSection


class LoginSettings(SettingsSection):
    # Logins (domain.login_throttle). Failures that cost no wait, per client address and per account
    # name; beyond them the next attempt waits base * 2**(failures - free) seconds after the last
    # failure, at most max; one failure is forgiven every forgive seconds; a successful login clears
    # its address. The account allows more than one address can reach alone (checked below).
    login_free_failures_per_address: int = Field(default=5, ge=1, le=1000)
    login_free_failures_per_account: int = Field(default=30, ge=1, le=10000)
    login_delay_base_seconds: float = Field(default=1.0, gt=0, le=3600)
    login_delay_max_seconds: float = Field(default=900.0, gt=0, le=86400)
    login_forgive_seconds: float = Field(default=900.0, gt=0, le=86400)
    # an address an account logged in from within this many days: failures elsewhere do not slow it there
    login_trusted_address_days: int = Field(default=30, ge=0, le=365)
    # Password hashing (argon2: 64 MiB and tens of milliseconds of CPU each): at most this many at
    # once per process; a login waits this long for a slot (with at most eight others per slot),
    # then gets 503 with Retry-After.
    password_hash_slots: int = Field(default=2, ge=1, le=64)
    password_hash_wait_seconds: float = Field(default=2.0, ge=0, le=60)
    # The cost of each new argon2 hash (argon2-cffi's defaults: 3 passes over 64 MiB, 4 lanes).
    # Hashes keep their own parameters, so changing these never locks anyone out. Lower them only
    # where passwords protect nothing (the test suite sets 1 pass over 8 KiB, 1 lane).
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=64 * 1024, ge=8, le=4 * 1024 * 1024)
    password_hash_parallelism: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="after")
    def _one_address_cannot_block_an_account(self):
        """An address that retries whenever it may settles where its wait equals forgive_seconds
        (so forgive must not exceed max), at free_per_address + log2(forgive / base) failures; the
        account must allow more, or one address locks its user out."""
        if self.login_forgive_seconds > self.login_delay_max_seconds:
            raise ValueError("KONTOR_LOGIN_FORGIVE_SECONDS must not exceed KONTOR_LOGIN_DELAY_MAX_SECONDS")
        settled = self.login_free_failures_per_address + math.log2(
            max(1.0, self.login_forgive_seconds / self.login_delay_base_seconds))
        if self.login_free_failures_per_account <= settled + 1:
            raise ValueError(f"KONTOR_LOGIN_FREE_FAILURES_PER_ACCOUNT must exceed {math.ceil(settled + 1)}: one "
                             "address alone reaches that many failures")
        return self
