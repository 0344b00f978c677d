"""Reading MT940 bank statements (SWIFT, as German banks send them) with the mt-940 library.

German banks structure field :86: in subfields: ?00 posting text, ?10 prima nota, ?20–?29 purpose
(with the SEPA tags EREF+, MREF+, CRED+, SVWZ+), ?30 BIC and ?31 IBAN of the counterparty, ?32/?33
its name, ?34 a return reason. The first three digits are the business transaction code (GVC):
108, 109 and 159 … mark returned direct debits and transfers. Statements come out as the same
dataclasses as CAMT.053 (domain.payments.statements)."""
from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import mt940
from schwifty import IBAN

from domain.payments.statements import (
    BankStatement,
    StatementFormatError,
    StatementLine,
    join_text,
    make_statement,
    none_if_placeholder,
)

MAX_BYTES = 50 * 1024 * 1024
# The library's fixes of its 5.0.0 behaviour, chosen one by one: ?31 under its own key
# (applicant_iban), :86: of any length, reversal marks signed like the movement they are …
OPTIONS = mt940.Options(applicant_iban=True, merge_keeps_values=True, reversal_sign=True,
                        case_insensitive_marks=True, unbounded_details=True, strip_bom=True,
                        gvc_leading_text=True, non_swift_free_text=True)
# GVC of returns: 108/109 returned SEPA direct debits (Rücklastschrift), 159 returned SEPA transfer
# (Retoure), 110/111 returned cheques and card debits, 128 return of a B2B direct debit.
RETURN_CODES = frozenset({"108", "109", "110", "111", "128", "159"})
REASON = re.compile(r"\b(AC0[1-6]|AC13|AG0[12]|AM0[45]|BE05|CNOR|DNOR|FF01|MD0[1267]|MS0[23]|RC01|RR0[1-4]|SL01|"
                    r"FOCR|DUPL|TECH|FRAD|CUST|UPAY|AM09|AC06)\b")
ACCOUNT = re.compile(r"^(?P<bank>\d{8})/(?P<account>\d{1,10})(?:[A-Z]{3})?$")


def read_mt940(source: bytes | Path, *, encoding: str | None = None,
               max_bytes: int = MAX_BYTES) -> tuple[BankStatement, ...]:
    """The statements of an MT940 file (one per :20: block). Bytes are read as UTF-8 when they are
    valid UTF-8, else as Windows-1252 (what German banking software writes), unless `encoding` says."""
    data = source.read_bytes() if isinstance(source, Path) else source
    if len(data) > max_bytes:
        raise StatementFormatError(f"the file is larger than {max_bytes} bytes")
    text = _decode(data, encoding)
    if ":20:" not in text or ":61:" not in text and ":60F:" not in text:
        raise StatementFormatError("not an MT940 statement: no :20: reference and :60F: opening balance")
    try:  # a file object, never a str: the library would read a str that names a file from disk
        blocks = mt940.parse_statements(io.StringIO(text), options=OPTIONS)
    except RuntimeError as error:  # the library's "Unable to parse <tag> from <data>"
        tag, data = (error.args[1:3] + (None, None))[:2]
        field = getattr(tag, "id", "?")
        raise StatementFormatError(f"MT940 not readable: field :{field}: {str(data)[:80]!r} does not fit "
                                   "its format") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StatementFormatError(f"MT940 not readable: {error}") from None
    if not blocks:
        raise StatementFormatError("not an MT940 statement: no :20: block")
    return tuple(_statement(block, number) for number, block in enumerate(blocks, start=1))


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        return data.decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _statement(block: Any, number: int) -> BankStatement:
    values = block.data
    reference = (values.get("transaction_reference") or "").strip()
    where = f"statement {number}" + (f" ({reference})" if reference else "")
    account = values.get("account_identification")
    if not account:
        raise StatementFormatError(f"{where}: no account (:25:)")
    opening = _balance(values, "final_opening_balance", "opening_balance", "intermediate_opening_balance")
    closing = _balance(values, "final_closing_balance", "closing_balance", "intermediate_closing_balance")
    if opening is None:
        raise StatementFormatError(f"{where}: no opening balance (:60F:/:60M:)")
    currency = block.currency or ""
    lines = [_line(transaction.data, where, index, currency) for index, transaction in enumerate(block, start=1)]
    number_text = values.get("statement_number")
    sequence = number_text if not values.get("sequence_number") else f"{number_text}/{values['sequence_number']}"
    opening_date = _date(values.get("final_opening_balance") or values.get("opening_balance")
                         or values.get("intermediate_opening_balance"))
    closing_date = _date(values.get("final_closing_balance") or values.get("closing_balance")
                         or values.get("intermediate_closing_balance"))
    return make_statement(
        account_iban=_iban(account, where), statement_id=reference or "", sequence=sequence, created_at=None,
        from_date=opening_date, to_date=closing_date, currency=currency, opening_balance=opening,
        closing_balance=closing, lines=lines, source_format="mt940",
        references_are_unique=False)  # :61: references are free text, often the same on every line


def _iban(account: str, where: str) -> str:
    """The account of :25: as an IBAN: German banks often write bank code/account number."""
    account = account.strip().replace(" ", "")
    match = ACCOUNT.match(account)
    try:
        if match:
            return str(IBAN.generate("DE", bank_code=match["bank"], account_code=match["account"]))
        return IBAN(account).compact
    except ValueError as error:
        raise StatementFormatError(f"{where}: account {account!r} (:25:) is no IBAN and no "
                                   f"bank code/account number: {error}") from None


def _balance(values: dict[str, Any], *keys: str) -> Decimal | None:
    for key in keys:
        balance = values.get(key)
        if balance is not None and getattr(balance, "amount", None) is not None:
            return Decimal(balance.amount.amount)
    return None


def _date(balance: Any) -> date | None:
    return _as_date(getattr(balance, "date", None))


def _as_date(value: date | None) -> date | None:
    return None if value is None else date(value.year, value.month, value.day)


def _line(data: dict[str, Any], where: str, index: int, currency: str) -> StatementLine:
    where = f"{where}, transaction {index}"
    amount = data.get("amount")
    status = (data.get("status") or "").upper()
    if amount is None or status not in ("C", "D", "RC", "RD"):
        raise StatementFormatError(f"{where}: :61: without an amount and a debit/credit mark")
    booked = _as_date(data.get("entry_date")) or _as_date(data.get("date"))
    if booked is None:
        raise StatementFormatError(f"{where}: :61: without a date")
    # C credit, D debit, RC reversal of a credit (money goes out), RD reversal of a debit (comes in)
    direction = "credit" if status in ("C", "RD") else "debit"
    code = (data.get("transaction_code") or "").strip() or None
    purpose = join_text([data.get("purpose")])
    reason_text = " ".join(str(data.get(key) or "") for key in ("return_debit_notes", "purpose", "posting_text"))
    reason = REASON.search(reason_text)
    is_return = status.startswith("R") or (code in RETURN_CODES)
    bank_reference = none_if_placeholder(data.get("bank_reference"))
    return StatementLine(
        position=index, amount=abs(Decimal(amount.amount)), direction=direction,
        currency=getattr(amount, "currency", None) or currency, booking_date=booked,
        value_date=_as_date(data.get("date")), remittance=purpose,
        end_to_end_id=none_if_placeholder(data.get("end_to_end_reference")),
        mandate_reference=none_if_placeholder(data.get("additional_position_reference")),
        counterparty_name=join_text([data.get("applicant_name")]) or None,
        counterparty_iban=_compact(data.get("applicant_iban") or data.get("gvc_applicant_iban")),
        counterparty_bic=_compact(data.get("applicant_bin") or data.get("gvc_applicant_bin")),
        bank_code=code or none_if_placeholder(data.get("id")), is_return=is_return,
        return_reason=(reason.group(1) if reason else (data.get("return_debit_notes") or None)) if is_return else None,
        entry_reference=bank_reference)


def _compact(value: str | None) -> str | None:
    return value.replace(" ", "").upper() or None if value else None
