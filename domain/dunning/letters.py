"""A dunning letter's figures, fixed once per level of a case: what is open on the letter's date,
the default interest from the first day of default to that date (domain.dunning.interest), this
letter's fee as the rules set it, the 40 € flat fee where the rules claim it (business customers,
once per invoice), the fees the earlier letters claimed, and the day to pay by.

Written in the step's first transaction; a retry finds the row (unique case + level) and uses its
figures, so a letter says the same whatever attempt mails it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.dunning.interest import FLAT_FEE, BaseRates, default_begins, default_interest
from domain.dunning.models import LETTER_KINDS, Dunning, DunningLetter
from domain.invoicing.models import Invoice
from domain.payments.balances import InvoiceBalance
from kernel.errors import ValidationFailed
from kernel.money import to_cents

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LetterRule:
    """What the rules (bpmn/dunning_level.dmn) set for the letter."""
    level: int
    kind: str
    fee: Decimal
    flat_fee: bool
    pay_within_days: int

    @classmethod
    def of(cls, params: dict) -> LetterRule:
        kind = params["kind"]
        if kind not in LETTER_KINDS:
            raise ValidationFailed(f"{kind!r} is no dunning letter", [{"field": "kind", "message": str(LETTER_KINDS)}])
        return cls(int(params["level"]), kind, to_cents(Decimal(str(params["fee"]))), bool(params["flat_fee"]),
                   int(params["pay_within_days"]))


def letter_at(session: Session, case: Dunning, level: int) -> DunningLetter | None:
    return session.scalar(select(DunningLetter).where(DunningLetter.dunning_id == case.id,
                                                      DunningLetter.level == level))


def write_letter(session: Session, case: Dunning, invoice: Invoice, balance: InvoiceBalance, rule: LetterRule,
                 rates: BaseRates, today: date) -> DunningLetter:
    """The letter of `rule.level`, its figures fixed now (or as a first attempt fixed them)."""
    existing = letter_at(session, case, rule.level)
    if existing is not None:
        return existing
    first_notice = session.scalar(select(func.min(DunningLetter.letter_date))
                                  .where(DunningLetter.invoice_id == invoice.id))
    # before the first letter only the 30-day rule puts a business customer in default; the first
    # letter (the reminder) does so from the day after it
    begins = default_begins(due_date=invoice.due_date, issue_date=invoice.issue_date, first_notice=first_notice,
                            consumer=case.consumer)
    principal = balance.open_amount
    interest = default_interest(principal, begins, today, rates, case.consumer)
    earlier = list(session.scalars(select(DunningLetter).where(DunningLetter.dunning_id == case.id,
                                                               DunningLetter.level < rule.level)))
    flat_claimed = session.scalar(select(func.count()).select_from(DunningLetter).where(
        DunningLetter.invoice_id == invoice.id, DunningLetter.flat_fee > 0))
    flat_fee = FLAT_FEE if rule.flat_fee and not case.consumer and not flat_claimed else ZERO
    fees_before = sum((letter.fee + letter.flat_fee for letter in earlier), ZERO)
    letter = DunningLetter(
        dunning_id=case.id, invoice_id=invoice.id, level=rule.level, kind=rule.kind, letter_date=today,
        pay_by=today + timedelta(days=rule.pay_within_days), currency=invoice.currency, open_amount=principal,
        interest_from=begins if interest.periods else None, interest=interest.amount,
        interest_periods=[{"first_day": p.first_day.isoformat(), "last_day": p.last_day.isoformat(),
                           "rate": str(p.rate), "days": p.days, "amount": str(p.amount)} for p in interest.periods],
        fee=rule.fee, flat_fee=flat_fee, fees_before=fees_before,
        total_claim=to_cents(principal + interest.amount + fees_before + rule.fee + flat_fee),
        language=invoice.language or "de")
    session.add(letter)
    case.level = max(case.level, rule.level)
    session.flush()
    return letter


def letters_of(session: Session, dunning_id: int) -> list[DunningLetter]:
    return list(session.scalars(select(DunningLetter).where(DunningLetter.dunning_id == dunning_id)
                                .order_by(DunningLetter.level)))
