"""SEPA direct debit files (pain.008) for collecting invoices under customers' mandates.

Written with sepaxml in pain.008.001.08, the version of the EPC rulebooks since November 2023 that
German banks take (DFÜ-Abkommen, Anlage 3); it makes the BIC optional, where .02 demands the
creditor's BIC. Every IBAN and BIC is checked with schwifty, the creditor identifier with
python-stdnum (ISO 7064 MOD 97-10), and the finished XML is validated against the pain.008.001.08
schema shipped with sepaxml, here with lxml, independently of sepaxml's own check: a file that does
not validate is never returned."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import sepaxml
from lxml import etree
from schwifty import BIC, IBAN
from sepaxml import SepaDD
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumValidationError

from kernel.money import CENT

PAIN_VERSION = "pain.008.001.08"
SequenceType = Literal["FRST", "RCUR", "OOFF", "FNAL"]
# the SEPA character set (EPC: Latin letters, digits and / - ? : ( ) . , ' + space)
SEPA_ID = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$")


class SepaDataError(ValueError):
    """A value a SEPA file cannot carry: the message names the field and what is wrong."""


@dataclass(frozen=True)
class Creditor:
    """Kontor's company as the collecting creditor."""
    name: str
    iban: str
    creditor_id: str
    bic: str | None = None


@dataclass(frozen=True)
class DirectDebit:
    """One collection: an invoice's amount under the customer's mandate. `end_to_end_id` is the
    invoice number, so the statement line and a later return find the invoice again."""
    mandate_reference: str
    mandate_date: date
    debtor_name: str
    debtor_iban: str
    amount: Decimal
    end_to_end_id: str
    sequence_type: SequenceType
    collection_date: date
    remittance: str = ""
    debtor_bic: str | None = None
    currency: str = "EUR"


def check_iban(value: str) -> str:
    """The IBAN in compact form (no spaces, upper case); SepaDataError naming the problem otherwise."""
    try:
        return IBAN(value).compact
    except ValueError as error:
        raise SepaDataError(f"IBAN {value!r}: {_problem(error)}") from None


def check_bic(value: str) -> str:
    try:
        return str(BIC(value.replace(" ", "").upper()))
    except ValueError as error:
        raise SepaDataError(f"BIC {value!r}: {_problem(error)}") from None


def check_creditor_id(value: str) -> str:
    """The SEPA creditor identifier (Gläubiger-Identifikationsnummer, e.g. DE98ZZZ09999999999)."""
    try:
        return str(at_02.validate(value))
    except StdnumValidationError as error:
        raise SepaDataError(f"creditor identifier {value!r}: {error}") from None


def _problem(error: ValueError) -> str:
    names = {"InvalidChecksumDigits": "check digits do not match", "InvalidLength": "wrong length",
             "InvalidCountryCode": "unknown country code", "InvalidStructure": "wrong structure",
             "InvalidBBANChecksum": "national check digit does not match", "InvalidBankCode": "unknown bank code"}
    return f"{names.get(type(error).__name__, 'invalid')} ({error})"


def build_direct_debit_file(creditor: Creditor, debits: list[DirectDebit], *, batch: bool = True,
                            scheme: Literal["CORE", "B2B"] = "CORE") -> bytes:
    """The pain.008.001.08 XML of these collections (one payment information block per sequence type
    and collection date when `batch`), validated against the schema. `scheme`: the mandates' kind,
    CORE or B2B (one file holds one kind: the banks take them as separate orders)."""
    if not debits:
        raise SepaDataError("a direct debit file needs at least one collection")
    if scheme not in ("CORE", "B2B"):
        raise SepaDataError(f"scheme {scheme!r} is neither CORE nor B2B")
    config = {"name": creditor.name, "IBAN": check_iban(creditor.iban), "batch": batch,
              "creditor_id": check_creditor_id(creditor.creditor_id), "currency": "EUR", "instrument": scheme}
    if creditor.bic:
        config["BIC"] = check_bic(creditor.bic)
    document = SepaDD(config, schema=PAIN_VERSION, clean=True)
    for number, debit in enumerate(debits, start=1):
        document.add_payment(_payment(debit, number))
    xml = document.export(validate=True)
    validate_pain008(xml)
    return xml


def _payment(debit: DirectDebit, number: int) -> dict:
    where = f"collection {number} ({debit.end_to_end_id})"
    if debit.currency != "EUR":
        raise SepaDataError(f"{where}: SEPA direct debits are in EUR, not {debit.currency}")
    if debit.amount <= 0 or debit.amount != debit.amount.quantize(CENT):
        raise SepaDataError(f"{where}: amount {debit.amount} is not a positive amount in cents")
    for label, value in (("end-to-end id", debit.end_to_end_id), ("mandate reference", debit.mandate_reference)):
        if not SEPA_ID.match(value):
            raise SepaDataError(f"{where}: {label} {value!r} needs 1–35 characters of the SEPA character set")
    if debit.sequence_type not in ("FRST", "RCUR", "OOFF", "FNAL"):
        raise SepaDataError(f"{where}: sequence type {debit.sequence_type!r} is none of FRST, RCUR, OOFF, FNAL")
    if debit.mandate_date > debit.collection_date:
        raise SepaDataError(f"{where}: the mandate is dated after the collection")
    payment = {"name": debit.debtor_name, "IBAN": check_iban(debit.debtor_iban),
               "amount": int(debit.amount * 100), "type": debit.sequence_type,
               "collection_date": debit.collection_date, "mandate_id": debit.mandate_reference,
               "mandate_date": debit.mandate_date, "description": debit.remittance or debit.end_to_end_id,
               "endtoend_id": debit.end_to_end_id}
    if debit.debtor_bic:
        payment["BIC"] = check_bic(debit.debtor_bic)
    return payment


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    path = Path(sepaxml.__file__).parent / "schemas" / f"{PAIN_VERSION}.xsd"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(path), parser))


def validate_pain008(xml: bytes) -> None:
    """Raises SepaDataError with the schema's first complaints unless the XML is valid pain.008.001.08."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        raise SepaDataError(f"not well-formed XML: {error.msg}") from None
    schema = _schema()
    if not schema.validate(document):
        problems = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:3])
        raise SepaDataError(f"not valid {PAIN_VERSION}: {problems}")
