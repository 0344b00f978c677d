"""Settings infrastructure and the core section every layer needs.

Kontor reads one environment namespace (KONTOR_…), but each package declares the part of it that
it uses, as a section class next to its code: runtime/settings.py, mailers/settings.py,
domain/offers/settings.py and so on. A package's code is annotated with its own section, so it
never imports the composed class from kontor/ (which would be an upward import). kontor/settings.py
composes the sections into the one `Settings` with compose_settings(); because the composed class
inherits every section, it is accepted wherever a section is.

This module holds what all sections share: the common configuration (prefix, no .env file, unknown
variables ignored), reusable validators (refusing known default secrets, splitting a list out of
one variable), composition, and CoreSettings: the data folder, the database and the signing secret.
"""
from __future__ import annotations

import inspect
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "KONTOR_"
# Values that must never reach production as a secret.
KNOWN_WEAK_SECRETS = {"changeme", "change-me", "secret", "kontor", "password", ""}
REPO_ROOT = Path(__file__).resolve().parent.parent


def env_name(field: str) -> str:
    """The environment variable that sets a field, as error messages and the README name it."""
    return ENV_PREFIX + field.upper()


class SettingsSection(BaseSettings):
    """The base of every section: one namespace, read from the environment only (no .env file, as
    before the split), variables of other sections or unknown ones ignored, so that a section can
    also be read on its own."""
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=None, extra="ignore")


def refuse_default_secrets(*fields: str, min_length: int = 16) -> Any:
    """A validator for secret fields: a known default ("changeme", …) or a short value is refused,
    so a copied example configuration cannot reach production. Unset (None) stays allowed; the
    section decides what unset means. Use it in a section's body:
    `_secret = refuse_default_secrets("secret_key")`."""

    def refuse(cls: type, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if raw.lower() in KNOWN_WEAK_SECRETS or len(raw) < min_length:
                raise ValueError(f"{env_name(info.field_name or 'secret')} is a default or too short "
                                 f"(at least {min_length} characters)")
        return value

    return field_validator(*fields)(refuse)


def separated(separator: str, *fields: str, item: Callable[[str], Any] = str) -> Any:
    """A validator that reads a list field from one variable split at `separator` (blank parts
    dropped, each converted by `item`). Such fields are annotated NoDecode: pydantic-settings would
    otherwise read the value as JSON."""

    def split(cls: type, value: Any) -> Any:
        if isinstance(value, str):
            return [item(part.strip()) for part in value.split(separator) if part.strip()]
        return value

    return field_validator(*fields, mode="before")(split)


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for other databases, in-memory ones and URI filenames."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" and not path.startswith("file:") else None


class CoreSettings(SettingsSection):
    """Where Kontor keeps its data and how it signs: needed by every layer."""
    data_dir: Path = Field(default=REPO_ROOT / "data",
                           description="Folder for the embedded SQLite file, secrets and Prefect's home")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    secret_key: SecretStr | None = Field(default=None,
                                         description="Signs tokens; generated once into data_dir when unset")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="What the console shows: INFO is what an operator needs, DEBUG everything")

    _refuse_default_secret_key = refuse_default_secrets("secret_key")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kontor.sqlite3').resolve()}"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, when the database is one."""
        return sqlite_file(self.resolved_database_url)

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


def declared_fields(section: type[SettingsSection]) -> list[str]:
    """The fields a section declares itself (not those it inherits from the sections it builds on)."""
    return [name for name in inspect.get_annotations(section) if name in section.model_fields]


def sections_of(settings: type[SettingsSection]) -> list[type[SettingsSection]]:
    """Every section a settings class is made of (itself included when it declares fields)."""
    return [cls for cls in settings.__mro__
            if isinstance(cls, type) and issubclass(cls, SettingsSection) and declared_fields(cls)]


def compose_settings(*sections: type[SettingsSection], name: str = "Settings",
                     module: str | None = None) -> type[SettingsSection]:
    """One settings class that inherits every given section: each section's fields, validators and
    helpers, read from the one KONTOR_ namespace. The order of `sections` does not matter: a section
    another one already builds on is left out of the bases (Python could not order them otherwise).
    Two sections declaring the same field are refused: a variable has one owner."""
    if not sections:
        raise ValueError("compose_settings needs at least one section")
    owners: dict[str, type] = {}
    for section in {cls for given in sections for cls in sections_of(given)}:
        for field in declared_fields(section):
            if field in owners:
                raise TypeError(f"{env_name(field)} is declared by both {owners[field].__qualname__} "
                                f"and {section.__qualname__}")
            owners[field] = section
    unique = list(dict.fromkeys(sections))
    bases = tuple(s for s in unique if not any(other is not s and issubclass(other, s) for other in unique))
    namespace = {"__module__": module or __name__, "__qualname__": name,
                 "__doc__": "Kontor's settings, composed of: " + ", ".join(s.__qualname__ for s in unique)}
    return type(name, bases, namespace)
