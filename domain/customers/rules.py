"""Rules of the customer master data, without I/O: VAT IDs, tax treatment, payment terms.
Each check returns the field errors it finds ({"field", "message"}), so a form lists them all."""
from __future__ import annotations

from decimal import Decimal

from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as NumberError

EU_COUNTRIES = frozenset(c.upper() for c in eu_vat.MEMBER_STATES if c != "xi") | {"GR"}
VAT_PREFIX_TO_COUNTRY = {"EL": "GR", "XI": "GB"}


def normalize_vat_id(vat_id: str, country: str) -> tuple[str | None, str | None]:
    """(the VAT ID in its normal form, None) or (None, why it is not valid). A number without its
    country prefix is read as one of the customer's country."""
    raw = "".join(vat_id.split()).upper().replace("-", "").replace(".", "")
    prefix = raw[:2] if raw[:2].isalpha() else None
    number_country = VAT_PREFIX_TO_COUNTRY.get(prefix, prefix) if prefix else country.upper()
    try:
        if number_country in EU_COUNTRIES or prefix == "XI":
            return eu_vat.validate(raw if prefix else ("EL" if number_country == "GR" else number_country) + raw), None
        module = get_cc_module(number_country.lower(), "vat")
        if module is None:
            return None, f"no VAT ID check is known for country {number_country}"
        return module.validate(raw), None
    except NumberError as exc:
        return None, f"{vat_id!r} is not a valid VAT ID: {exc.message}"


def vat_country(vat_id: str) -> str:
    prefix = vat_id[:2]
    return VAT_PREFIX_TO_COUNTRY.get(prefix, prefix)


def check_tax_treatment(tax_treatment: str, country: str, vat_id: str | None, home_country: str) -> list[dict]:
    """Domestic: a customer in the home country. EU reverse charge: a business in another EU country
    with a valid VAT ID of that country. Export: outside the EU."""
    country = country.upper()
    errors = []
    if tax_treatment == "domestic" and country != home_country:
        errors.append({"field": "tax_treatment", "message": f"domestic needs a customer in {home_country}, "
                                                            f"not {country}"})
    elif tax_treatment == "eu_reverse_charge":
        if country == home_country or country not in EU_COUNTRIES:
            errors.append({"field": "tax_treatment", "message": "EU reverse charge needs a customer in another "
                                                                "EU country"})
        elif not vat_id:
            errors.append({"field": "vat_id", "message": "EU reverse charge needs the customer's VAT ID"})
        elif vat_country(vat_id) != country:
            errors.append({"field": "vat_id", "message": f"the VAT ID is not from {country}"})
    elif tax_treatment == "export" and country in EU_COUNTRIES:
        errors.append({"field": "tax_treatment", "message": f"export is for customers outside the EU; {country} "
                                                            "is in the EU"})
    return errors


def check_payment_terms(payment_days: int | None, skonto_percent: Decimal | None,
                        skonto_days: int | None) -> list[dict]:
    errors = []
    if (skonto_percent is None) != (skonto_days is None):
        errors.append({"field": "skonto_days" if skonto_days is None else "skonto_percent",
                       "message": "Skonto needs both a percentage and a number of days"})
    elif skonto_days is not None and payment_days is not None and skonto_days >= payment_days:
        errors.append({"field": "skonto_days", "message": "the Skonto period must be shorter than the payment term"})
    return errors


def check_einvoice(einvoice_format: str | None, buyer_reference: str | None) -> list[dict]:
    """XRechnung needs the buyer reference (BT-10, BR-DE-15): public customers give their Leitweg-ID."""
    if einvoice_format and einvoice_format.startswith("xrechnung") and not buyer_reference:
        return [{"field": "buyer_reference", "message": "XRechnung needs the buyer reference (the Leitweg-ID of a "
                                                       "public customer)"}]
    return []
