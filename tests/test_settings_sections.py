"""The settings are split into sections, one per package, and composed into one class: every variable
has exactly one owner, and the composed class reads exactly the names the single class used to read
(operators' environments and compose files keep working)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import Field, ValidationError

from domain.accounting.settings import DatevSettings
from domain.dunning.settings import DunningSettings
from domain.login_settings import LoginSettings
from domain.offers.settings import OfferSettings
from domain.settings import CompanySettings
from kernel.settings import CoreSettings, SettingsSection, compose_settings, declared_fields, env_name, sections_of
from kontor.serving import ApiSettings, WorkerSettings
from kontor.settings import SECTIONS, Settings
from mailers.settings import MailSettings
from runtime.settings import RuntimeSettings

ROOT = Path(__file__).resolve().parent.parent

# Every variable the one Settings class of kontor/settings.py read before the split (ca004eb).
OLD_ENV_NAMES = [
    "KONTOR_DATA_DIR", "KONTOR_DATABASE_URL", "KONTOR_SECRET_KEY", "KONTOR_TOKEN_TTL_MINUTES",
    "KONTOR_LOGIN_FREE_FAILURES_PER_ADDRESS", "KONTOR_LOGIN_FREE_FAILURES_PER_ACCOUNT",
    "KONTOR_LOGIN_DELAY_BASE_SECONDS", "KONTOR_LOGIN_DELAY_MAX_SECONDS", "KONTOR_LOGIN_FORGIVE_SECONDS",
    "KONTOR_LOGIN_TRUSTED_ADDRESS_DAYS", "KONTOR_PASSWORD_HASH_SLOTS", "KONTOR_PASSWORD_HASH_WAIT_SECONDS",
    "KONTOR_PASSWORD_HASH_TIME_COST", "KONTOR_PASSWORD_HASH_MEMORY_KIB", "KONTOR_PASSWORD_HASH_PARALLELISM",
    "KONTOR_TRUSTED_PROXIES", "KONTOR_BPMN_PATH", "KONTOR_BUILTIN_BPMN_DIR", "KONTOR_MESSAGE_TTL_SECONDS",
    "KONTOR_PROCESS_DATA_MAX_BYTES", "KONTOR_JOB_MAX_ATTEMPTS", "KONTOR_JOB_BACKOFF_BASE_SECONDS",
    "KONTOR_JOB_BACKOFF_MAX_SECONDS", "KONTOR_JOB_LEASE_SECONDS", "KONTOR_JOB_BATCH_SIZE",
    "KONTOR_JOB_OUTCOME_GROUP_SECONDS", "KONTOR_WORKER_POLL_SECONDS", "KONTOR_WORKER_HEALTH_HOST",
    "KONTOR_WORKER_HEALTH_PORT", "KONTOR_WORKER_ID", "KONTOR_WORKER_HEARTBEAT_SECONDS",
    "KONTOR_WORKER_STALE_SECONDS", "KONTOR_TIMER_BATCH_SIZE", "KONTOR_WORKFLOW_CACHE_SIZE",
    "KONTOR_COMPANY_COUNTRY", "KONTOR_DOCUMENT_MAX_BYTES", "KONTOR_REQUEST_MAX_BYTES",
    "KONTOR_IDEMPOTENCY_TTL_HOURS", "KONTOR_IDEMPOTENCY_LEASE_SECONDS", "KONTOR_SMTP_HOST", "KONTOR_SMTP_PORT",
    "KONTOR_SMTP_SECURITY", "KONTOR_SMTP_USERNAME", "KONTOR_SMTP_PASSWORD", "KONTOR_SMTP_TIMEOUT_SECONDS",
    "KONTOR_SMTP_CA_FILE", "KONTOR_MAIL_FROM", "KONTOR_LOCAL_IMAP_PORT", "KONTOR_REPLY_LOCAL",
    "KONTOR_REPLY_DOMAIN", "KONTOR_OUTBOX_MAX_ATTEMPTS", "KONTOR_OUTBOX_BACKOFF_BASE_SECONDS",
    "KONTOR_OUTBOX_BACKOFF_MAX_SECONDS", "KONTOR_OUTBOX_BATCH_SIZE", "KONTOR_OUTBOX_LEASE_SECONDS",
    "KONTOR_MAILBOXES", "KONTOR_INBOUND_MAX_BYTES", "KONTOR_INBOUND_LOOP_LIMIT", "KONTOR_INBOUND_BATCH_SIZE",
    "KONTOR_INBOUND_WORKERS", "KONTOR_MAIL_POLL_SECONDS", "KONTOR_COMPANY_NAME", "KONTOR_COMPANY_ADDRESS",
    "KONTOR_COMPANY_PHONE", "KONTOR_COMPANY_EMAIL", "KONTOR_COMPANY_VAT_ID", "KONTOR_COMPANY_REGISTER",
    "KONTOR_COMPANY_MANAGING_DIRECTORS", "KONTOR_COMPANY_BANK", "KONTOR_COMPANY_TIMEZONE",
    "KONTOR_PUBLIC_BASE_URL", "KONTOR_OFFER_VALIDITY_DAYS", "KONTOR_OFFER_REMINDER_DAYS_BEFORE",
    "KONTOR_OFFER_APPROVAL_DUE", "KONTOR_OFFER_APPROVAL_ESCALATE_AFTER", "KONTOR_STANDARD_PAYMENT_DAYS",
    "KONTOR_STANDARD_SKONTO_PERCENT", "KONTOR_STANDARD_SKONTO_DAYS", "KONTOR_STANDARD_CREDIT_LIMIT",
    "KONTOR_APPROVAL_DEPUTIES", "KONTOR_API_HOST", "KONTOR_API_PORT", "KONTOR_PREFECT_PORT",
]

ALL_SECTIONS = {CoreSettings, RuntimeSettings, MailSettings, CompanySettings, LoginSettings, OfferSettings,
                DatevSettings, DunningSettings, ApiSettings, WorkerSettings}


ADDED_SINCE = ["KONTOR_LOG_LEVEL", "KONTOR_COMPANY_STREET", "KONTOR_COMPANY_POSTAL_CODE", "KONTOR_COMPANY_CITY",
               "KONTOR_COMPANY_TAX_NUMBER", "KONTOR_COMPANY_IBAN", "KONTOR_COMPANY_BIC", "KONTOR_COMPANY_CREDITOR_ID",
               "KONTOR_DATEV_CONSULTANT_NUMBER", "KONTOR_DATEV_CLIENT_NUMBER", "KONTOR_DATEV_FISCAL_YEAR_START_MONTH",
               "KONTOR_DATEV_CHART", "KONTOR_DATEV_ACCOUNT_LENGTH", "KONTOR_DUNNING_GRACE_DAYS",
               "KONTOR_DUNNING_BASE_RATES", "KONTOR_WORKER_PROCESSES"]


def test_every_field_is_declared_in_exactly_one_section():
    owners = Counter(field for section in sections_of(Settings) for field in declared_fields(section))
    assert set(sections_of(Settings)) == ALL_SECTIONS  # the composed class itself declares nothing
    assert {field for field, count in owners.items() if count != 1} == set()
    assert set(owners) == set(Settings.model_fields)


def test_the_composed_class_reads_every_name_the_single_class_read():
    assert len(OLD_ENV_NAMES) == len(set(OLD_ENV_NAMES)) == 83
    assert sorted(env_name(field) for field in Settings.model_fields) == sorted(OLD_ENV_NAMES + ADDED_SINCE)
    for field in Settings.model_fields.values():  # an alias would change the variable's name
        assert field.alias is None and field.validation_alias is None
    assert Settings.model_config["env_prefix"] == "KONTOR_" and Settings.model_config["env_file"] is None


def test_each_section_reads_its_variables_from_the_environment(monkeypatch, tmp_path):
    values = {"KONTOR_DATA_DIR": str(tmp_path), "KONTOR_WORKER_ID": "w-1", "KONTOR_SMTP_HOST": "mail.example.com",
              "KONTOR_COMPANY_NAME": "Muster AG", "KONTOR_LOGIN_TRUSTED_ADDRESS_DAYS": "7",
              "KONTOR_OFFER_VALIDITY_DAYS": "14", "KONTOR_API_PORT": "8080", "KONTOR_PREFECT_PORT": "4300",
              "KONTOR_BPMN_PATH": "/a:/b", "KONTOR_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.data_dir, settings.worker_id, settings.smtp_host) == (tmp_path, "w-1", "mail.example.com")
    assert (settings.company_name, settings.login_trusted_address_days, settings.offer_validity_days) == \
        ("Muster AG", 7, 14)
    assert (settings.api_port, settings.prefect_port) == (8080, 4300)
    assert settings.bpmn_path == [Path("/a"), Path("/b")]
    assert settings.trusted_proxies == ["10.0.0.1/32", "192.168.0.0/16"]
    assert RuntimeSettings().worker_id == "w-1" and MailSettings().smtp_host == "mail.example.com"  # alone, too
    assert all(isinstance(settings, section) for section in ALL_SECTIONS)  # accepted wherever a section is


@pytest.mark.parametrize("section", [CoreSettings, RuntimeSettings, MailSettings, OfferSettings, Settings])
@pytest.mark.parametrize("secret", ["changeme", "Password", "short-secret"])
def test_every_section_with_the_secret_refuses_known_defaults(section, secret):
    with pytest.raises(ValidationError, match="KONTOR_SECRET_KEY is a default or too short"):
        section(secret_key=secret)


def test_composition_refuses_a_variable_two_sections_declare():
    class Other(SettingsSection):
        smtp_host: str = Field(default="elsewhere")

    with pytest.raises(TypeError, match="KONTOR_SMTP_HOST is declared by both"):
        compose_settings(*SECTIONS, Other)


def test_composition_does_not_depend_on_the_order_of_sections():
    reversed_order = compose_settings(*reversed(SECTIONS))
    assert set(reversed_order.model_fields) == set(Settings.model_fields)
    assert reversed_order(secret_key="x" * 20).model_dump() == Settings(secret_key="x" * 20).model_dump()
    assert set(compose_settings(RuntimeSettings).model_fields) == \
        set(declared_fields(CoreSettings)) | set(declared_fields(RuntimeSettings))
