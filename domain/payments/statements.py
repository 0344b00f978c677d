"""A bank statement and its lines, whatever format the bank sent (CAMT.053 or MT940).

Amounts are positive `Decimal`s with a direction (credit: money came in; debit: money went out), so
no reader and no rule has to guess what a sign means. Each line carries a fingerprint: importing the
same statement twice is recognised line by line, while two genuinely identical transfers on one day
stay two lines (their positions in the statement differ)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

Direction = Literal["credit", "debit"]
FINGERPRINT_VERSION = "v1"  # part of every fingerprint: a change of the recipe must not match old ones


class StatementFormatError(ValueError):
    """A statement file that cannot be read: the message names what is wrong and where."""


@dataclass(frozen=True)
class StatementLine:
    """One booked movement on the account (for a batch booking: one transaction detail of it).

    `position` counts the lines of the statement from 1; `detail` counts the transaction details
    within one bank entry from 0 (a batch entry with three details gives details 0, 1, 2).
    `entry_reference` is the bank's own reference of the entry (CAMT AcctSvcrRef, MT940 bank
    reference), None when the bank gave none. `bank_code` is the bank transaction code
    (CAMT Domn/Fmly/SubFmly or proprietary code; MT940 the GVC, e.g. "166", with the SWIFT type).
    `is_return` marks a returned or reversed direct debit (R-transaction) with its ISO reason code
    in `return_reason` (AC04 account closed, MD06 refund on the debtor's request, AM04 no funds …)."""
    position: int
    amount: Decimal
    direction: Direction
    currency: str
    booking_date: date
    value_date: date | None = None
    remittance: str = ""
    creditor_reference: str | None = None
    end_to_end_id: str | None = None
    mandate_reference: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    bank_code: str | None = None
    is_return: bool = False
    return_reason: str | None = None
    entry_reference: str | None = None
    detail: int = 0
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"line {self.position}: amounts are positive, the direction says which way")
        if self.direction not in ("credit", "debit"):
            raise ValueError(f"line {self.position}: direction {self.direction!r} is neither credit nor debit")

    @property
    def signed_amount(self) -> Decimal:
        """The amount as the account sees it: credits add, debits subtract."""
        return self.amount if self.direction == "credit" else -self.amount


@dataclass(frozen=True)
class BankStatement:
    """One statement of one account: its identity, period, balances (signed: negative = overdrawn)
    and lines in the order the bank listed them. `source_format` is "camt.053.001.08", "mt940" …"""
    account_iban: str
    statement_id: str
    sequence: str | None
    created_at: datetime | None
    from_date: date | None
    to_date: date | None
    currency: str
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    lines: tuple[StatementLine, ...]
    source_format: str = ""

    @property
    def identity(self) -> str:
        """What tells this statement apart from another of the same account. MT940 statement ids are
        often the same text on every statement ("STARTUMS"), so the sequence number, the period and
        the opening balance are part of it."""
        return "|".join((self.account_iban, self.statement_id, self.sequence or "",
                         _text(self.from_date), _text(self.to_date), _text(self.opening_balance)))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def line_fingerprint(account_iban: str, statement_identity: str, line: StatementLine, *,
                     by_reference: bool = True) -> str:
    """A stable hex digest that identifies the line across imports.

    With the bank's entry reference the line is identified by (account, reference, detail): the same
    booking is recognised even in a statement the bank re-sent under another id. Without it, by
    (statement identity, position): re-importing the same statement matches line for line, and two
    identical transfers on the same day differ by position. Amount, direction, currency and booking
    date are always part of it, so a reused reference or statement id never swallows another booking.
    `by_reference=False` for formats whose references are not unique per booking (MT940's :61: text)."""
    if by_reference and line.entry_reference:
        anchor = ("ref", account_iban, line.entry_reference, str(line.detail))
    else:
        anchor = ("pos", statement_identity, str(line.position), str(line.detail))
    content = (f"{line.amount:.2f}", line.direction, line.currency, line.booking_date.isoformat())
    text = "\x1f".join((FINGERPRINT_VERSION, *anchor, *content))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_statement(*, account_iban: str, statement_id: str, sequence: str | None, created_at: datetime | None,
                   from_date: date | None, to_date: date | None, currency: str,
                   opening_balance: Decimal | None, closing_balance: Decimal | None,
                   lines: Iterable[StatementLine], source_format: str,
                   references_are_unique: bool = True) -> BankStatement:
    """The statement with its lines numbered 1… in the given order and fingerprinted. References the
    banks write for "none" (NONREF, NOTPROVIDED) are dropped before the fingerprint is taken; where the
    format's references are not unique per booking, lines are identified by position alone."""
    statement = BankStatement(account_iban, statement_id, sequence, created_at, from_date, to_date, currency,
                              opening_balance, closing_balance, (), source_format)
    identity = statement.identity
    numbered = []
    for position, line in enumerate(lines, start=1):
        reference = none_if_placeholder(line.entry_reference)
        line = replace(line, position=position, entry_reference=reference)
        numbered.append(replace(line, fingerprint=line_fingerprint(
            account_iban, identity, line, by_reference=references_are_unique)))
    return replace(statement, lines=tuple(numbered))


PLACEHOLDERS = frozenset({"", "NONREF", "NOTPROVIDED", "NOT PROVIDED", "NONE"})


def none_if_placeholder(value: str | None) -> str | None:
    """None for a missing value or a bank's placeholder for one ("NOTPROVIDED", "NONREF")."""
    if value is None:
        return None
    value = value.strip()
    return None if value.upper() in PLACEHOLDERS else value


def join_text(parts: Iterable[str | None]) -> str:
    """Remittance text split over several lines, joined with single spaces."""
    return " ".join(" ".join(part.split()) for part in parts if part and part.strip())
