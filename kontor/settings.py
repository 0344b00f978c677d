"""The one settings class of Kontor: environment variables with the prefix KONTOR_."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values that must never reach production as a signing secret.
KNOWN_WEAK_SECRETS = {"changeme", "change-me", "secret", "kontor", "password", ""}
REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KONTOR_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / "data", description="Folder for the embedded SQLite file, secrets and Prefect's home")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    secret_key: SecretStr | None = Field(default=None, description="Signs tokens; generated once into data_dir when unset")
    token_ttl_minutes: int = 12 * 60

    # `:`-separated like PATH (NoDecode: pydantic-settings would otherwise read the value as JSON).
    bpmn_path: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra folders with .bpmn/.dmn files, besides bpmn/, separated by ':'")
    builtin_bpmn_dir: Path = REPO_ROOT / "bpmn"

    # Messages that arrive before anybody waits for them are kept this long.
    message_ttl_seconds: int = 14 * 24 * 3600

    # Service jobs: attempts and exponential backoff (base * 2**(attempt-1), capped).
    job_max_attempts: int = 3
    job_backoff_base_seconds: float = 2.0
    job_backoff_max_seconds: float = 3600.0
    job_lease_seconds: int = 300
    job_batch_size: int = 50

    # Worker: how often it looks for due timers and ready jobs.
    worker_poll_seconds: float = 1.0
    timer_batch_size: int = 100

    # The company running Kontor: decides what "domestic" means for tax.
    company_country: str = Field(default="DE", min_length=2, max_length=2)

    # Documents attached to records: stored under data_dir/documents, at most this large.
    document_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    prefect_port: int = 4200

    @field_validator("bpmn_path", mode="before")
    @classmethod
    def _split_path_list(cls, value):
        if isinstance(value, str):
            return [Path(p) for p in value.split(":") if p.strip()]
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
    def bpmn_dirs(self) -> list[Path]:
        return [self.builtin_bpmn_dir, *self.bpmn_path]

    def signing_key(self) -> str:
        """The token signing secret: from the environment, else one generated once and kept in data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
