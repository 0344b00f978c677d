"""The company that runs Kontor, as every business module sees it: its country (what "domestic"
means for tax, for customers and documents), its time zone (where "today" is), how customers reach
Kontor's links, and the letterhead its documents print. It lives here, not in one business module,
because more than one prints or decides with it: offers today, invoices next."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from kernel.settings import SettingsSection


class CompanySettings(SettingsSection):
    # The company running Kontor: decides what "domestic" means for tax.
    company_country: str = Field(default="DE", min_length=2, max_length=2)

    # The company as documents show it: letterhead and the footer German business letters must carry.
    company_name: str = "Kontor Demo GmbH"
    company_address: str = "Musterstraße 1, 10115 Berlin"
    company_phone: str | None = "+49 30 1234567"
    company_email: str | None = "vertrieb@kontor.localhost"
    company_vat_id: str | None = Field(default="DE123456788", description="checked as customers' VAT IDs are")
    company_register: str | None = Field(default="Amtsgericht Charlottenburg, HRB 000000",
                                         description="register court and number")
    company_managing_directors: str | None = "Erika Musterfrau"
    company_bank: str | None = "IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001"
    # what an invoice and its e-invoice need beyond the letterhead (EN 16931 BG-4/BG-5, BT-32, BG-17, BT-90)
    company_street: str = "Musterstraße 1"
    company_postal_code: str = "10115"
    company_city: str = "Berlin"
    company_tax_number: str | None = Field(default="27/123/45678", description="Steuernummer, beside or "
                                                                               "instead of the VAT ID")
    company_iban: str | None = "DE02120300000000202051"
    company_bic: str | None = "BYLADEM1001"
    company_creditor_id: str | None = Field(default="DE98ZZZ09999999999",
                                            description="SEPA creditor identifier, for direct debits")
    company_timezone: str = Field(default="Europe/Berlin", description="where 'today' and 'end of day' are")
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="how customers reach Kontor's links")

    @field_validator("company_vat_id")
    @classmethod
    def _valid_vat_id(cls, value: str | None):
        """The letterhead's VAT ID passes the check customers' VAT IDs pass (python-stdnum): a document
        never prints a number that Kontor itself would refuse."""
        if not value:
            return None
        from stdnum import get_cc_module
        from stdnum.exceptions import ValidationError

        compact = "".join(value.split()).upper()
        module = get_cc_module(compact[:2].lower(), "vat")
        if module is None:
            raise ValueError(f"{value!r}: no VAT ID check known for country {compact[:2]!r}")
        try:
            module.validate(compact)
        except ValidationError as exc:
            raise ValueError(f"{value!r} is not a valid VAT ID: {exc.message}") from None
        return compact

    @field_validator("company_timezone")
    @classmethod
    def _known_timezone(cls, value: str):
        ZoneInfo(value)
        return value


def company_today(settings: CompanySettings) -> date:
    """Today where the company is (its time zone): the date its documents carry."""
    return datetime.now(ZoneInfo(settings.company_timezone)).date()
