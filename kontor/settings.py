"""The one settings class of Kontor: environment variables with the prefix KONTOR_."""
from __future__ import annotations

import ipaddress
import math
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values that must never reach production as a signing secret.
KNOWN_WEAK_SECRETS = {"changeme", "change-me", "secret", "kontor", "password", ""}
REPO_ROOT = Path(__file__).resolve().parent.parent


class MailboxConfig(BaseModel):
    """One IMAP mailbox Kontor reads. purpose "leads": unknown senders become leads."""
    name: str = Field(min_length=1, max_length=100)
    host: str = "127.0.0.1"
    port: int = Field(default=143, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str
    password: SecretStr
    folder: str = "INBOX"
    purpose: Literal["replies", "leads"] = "replies"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KONTOR_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / "data", description="Folder for the embedded SQLite file, secrets and Prefect's home")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    secret_key: SecretStr | None = Field(default=None, description="Signs tokens; generated once into data_dir when unset")
    token_ttl_minutes: int = 12 * 60

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
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
    # Without them the client address is the connection's, whatever the request claims.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="addresses or networks of trusted reverse proxies, comma-separated")

    # `:`-separated like PATH (NoDecode: pydantic-settings would otherwise read the value as JSON).
    bpmn_path: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra folders with .bpmn/.dmn files, besides bpmn/, separated by ':'")
    builtin_bpmn_dir: Path = REPO_ROOT / "bpmn"

    # Messages that arrive before anybody waits for them are kept this long.
    message_ttl_seconds: int = 14 * 24 * 3600
    # Process data a client brings (start data, a message's data, a completed form), as JSON.
    process_data_max_bytes: int = Field(default=256 * 1024, ge=1024)

    # Service jobs: attempts and exponential backoff (base * 2**(attempt-1), capped).
    job_max_attempts: int = 3
    job_backoff_base_seconds: float = 2.0
    job_backoff_max_seconds: float = 3600.0
    job_lease_seconds: int = 300
    job_batch_size: int = 50
    # The outcomes of quick jobs run one after another are recorded together, in one transaction,
    # while they finish within this many seconds of each other (0: each in its own transaction).
    job_outcome_group_seconds: float = Field(default=0.1, ge=0)

    # Worker: how often it looks for due timers and ready jobs.
    worker_poll_seconds: float = 1.0
    # Worker probes (GET /health, /ready) over HTTP on this address; no port: not served.
    worker_health_host: str = "127.0.0.1"
    worker_health_port: int | None = Field(default=None, ge=0, le=65535)
    # A worker's identity (default: the host's name; see runtime/workers.py). Claimed jobs and mail
    # name it; a worker that sends no heartbeat for worker_stale_seconds is taken for dead and its
    # claims are free, and one started again under the same name takes its claims back at once.
    worker_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._@-]{1,60}$")
    worker_heartbeat_seconds: float = Field(default=2.0, gt=0)
    worker_stale_seconds: float = Field(default=10.0, gt=0)
    timer_batch_size: int = 100
    # Workflows of this many recently stepped instances stay in memory between their steps (0: none).
    workflow_cache_size: int = Field(default=1000, ge=0)

    # The company running Kontor: decides what "domestic" means for tax.
    company_country: str = Field(default="DE", min_length=2, max_length=2)

    # Documents attached to records: stored under data_dir/documents, at most this large (also the
    # body limit of the upload routes, see api/body_limit.py).
    document_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Request bodies: the most bytes any other request may carry (413 beyond).
    request_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Idempotency-Key: an answer is replayed for this many hours after its request, then forgotten;
    # a running request renews its key's lease every third of idempotency_lease_seconds, so a key
    # whose request died (its process killed, its database gone) is free again within that time.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    idempotency_lease_seconds: int = Field(default=30, ge=1, le=3600)

    # Outbound mail (SMTP). smtp_security: "none", "starttls" or "tls" (implicit TLS, port 465).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_ca_file: Path | None = Field(default=None, description="PEM file of a private CA the SMTP server's "
                                                                "certificate is checked against")
    mail_from: str = Field(default="Kontor <vertrieb@kontor.localhost>", description="From of every mail")
    # Embedded mode: the local mail pair (SMTP on smtp_port delivering into Dovecot, IMAP on this port).
    local_imap_port: int = Field(default=8143, ge=1, le=65535)
    # Replies come back to <reply_local>+<signed token>@<reply_domain>.
    reply_local: str = Field(default="antwort", pattern=r"^[A-Za-z0-9._-]{1,30}$")
    reply_domain: str = Field(default="kontor.localhost", pattern=r"^[A-Za-z0-9.-]{1,200}$")
    # The outbox: attempts, then exponential backoff (base * 2**(attempt-1), capped), then dead letter.
    outbox_max_attempts: int = Field(default=6, ge=1, le=50)
    outbox_backoff_base_seconds: float = Field(default=60.0, ge=0)
    outbox_backoff_max_seconds: float = Field(default=6 * 3600.0, ge=0)
    outbox_batch_size: int = Field(default=50, ge=1, le=1000)
    outbox_lease_seconds: int = Field(default=300, ge=1)

    # Inbound mail: the mailboxes read over IMAP (KONTOR_MAILBOXES as a JSON list), the largest
    # message taken in whole, and how many messages one sender may send per hour before the rest
    # is ignored as a mail loop.
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    inbound_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    inbound_loop_limit: int = Field(default=30, ge=1)
    inbound_batch_size: int = Field(default=100, ge=1, le=1000)
    inbound_workers: int = Field(default=2, ge=1, le=8, description="threads taking in a mailbox's messages")
    mail_poll_seconds: float = Field(default=30.0, ge=1.0, description="how often the worker reads the mailboxes")

    # The company as documents show it: letterhead and the footer German business letters must carry.
    company_name: str = "Kontor Demo GmbH"
    company_address: str = "Musterstraße 1, 10115 Berlin"
    company_phone: str | None = "+49 30 1234567"
    company_email: str | None = "vertrieb@kontor.localhost"
    company_vat_id: str | None = "DE123456789"
    company_register: str | None = Field(default="Amtsgericht Charlottenburg, HRB 000000",
                                         description="register court and number")
    company_managing_directors: str | None = "Erika Musterfrau"
    company_bank: str | None = "IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001"
    company_timezone: str = Field(default="Europe/Berlin", description="where 'today' and 'end of day' are")
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="how customers reach Kontor's links")

    # Offers: validity, the customer's reminder before it ends, the approval's due time (the approver
    # is reminded then) and the time after which it goes to the level's deputy group.
    offer_validity_days: int = Field(default=30, ge=1, le=365)
    offer_reminder_days_before: int = Field(default=3, ge=0, le=60)
    offer_approval_due: str = Field(default="P2D", description="ISO 8601 duration")
    offer_approval_escalate_after: str = Field(default="P4D", description="ISO 8601 duration")
    # The company's standard terms: what the offer approval measures an offer's terms and exposure
    # against when no manager set the customer's own (a salesperson's terms approve nothing).
    standard_payment_days: int = Field(default=30, ge=0, le=365)
    standard_skonto_percent: Decimal = Field(default=Decimal("2"), ge=0, le=100)
    standard_skonto_days: int = Field(default=10, ge=0, le=365)
    standard_credit_limit: Decimal = Field(default=Decimal("50000"), ge=0)
    approval_deputies: dict[str, str] = Field(default_factory=lambda: {
        "team_lead": "sales_manager", "sales_manager": "managing_director",
        "managing_director": "managing_director_deputy"})

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    prefect_port: int = 4200

    @field_validator("bpmn_path", mode="before")
    @classmethod
    def _split_path_list(cls, value):
        if isinstance(value, str):
            return [Path(p) for p in value.split(":") if p.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxy_list(cls, value):
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]):
        return [str(ipaddress.ip_network(p, strict=False)) for p in value]  # ValueError names the bad one

    @field_validator("mail_from")
    @classmethod
    def _one_mailbox(cls, value: str):
        from mailers.addresses import single_address

        single_address(value)  # AddressError (a ValueError) says why
        return value

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

    @model_validator(mode="after")
    def _a_live_worker_is_never_taken_for_dead(self):
        if self.worker_stale_seconds < 2 * self.worker_heartbeat_seconds:
            raise ValueError("KONTOR_WORKER_STALE_SECONDS must be at least twice KONTOR_WORKER_HEARTBEAT_SECONDS")
        return self

    @field_validator("offer_approval_due", "offer_approval_escalate_after")
    @classmethod
    def _iso_duration(cls, value: str):
        from runtime.moments import parse_duration

        parse_duration(value)  # ValueError names the bad value
        return value

    @field_validator("company_timezone")
    @classmethod
    def _known_timezone(cls, value: str):
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
        return value

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None):
        if value is not None:
            raw = value.get_secret_value()
            if raw.lower() in KNOWN_WEAK_SECRETS or len(raw) < 16:
                raise ValueError("KONTOR_SECRET_KEY is a default or too short (at least 16 characters)")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kontor.sqlite3').resolve()}"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, when the database is one."""
        url = self.resolved_database_url
        if not url.startswith("sqlite") or "///" not in url:
            return None
        path = url.split("///", 1)[1].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" and not path.startswith("file:") else None

    @property
    def bpmn_dirs(self) -> list[Path]:
        return [self.builtin_bpmn_dir, *self.bpmn_path]

    def signing_key(self) -> str:
        """The token signing secret: from the environment, else one generated once and kept in data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        from kernel.private_files import create_private_file, private_folder

        path = self.data_dir / "secret_key"
        if not path.exists():
            private_folder(self.data_dir)
            create_private_file(path, secrets.token_urlsafe(48).encode())  # a process starting with us may win
        return path.read_text().strip()
