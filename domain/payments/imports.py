"""Importing a bank statement file: received by the API, booked by the worker.

Receiving (`receive_statement`, in the request): the file is read at once — CAMT.053 or MT940, by
its content, size-limited, parsed by the defensive readers — so a wrong file is refused with what is
wrong (422) and never queued; a readable one is stored as a document and waits as `received`.

Booking (`import_statement`, in the worker, one transaction per statement file): the lines whose
fingerprint is known already are left alone (a statement imported twice, or re-sent by the bank
under another id, books nothing twice); the others are matched against the open items and become
statement lines, payments, allocations and customers' credit, and every unmatched line of money
in (or returned debit) gets its clarification task. The file's row is the item of a durable queue
(runtime.queue): leased, retried with backoff, a dead letter (incident) after the last attempt."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from domain.documents import DocumentOwners, store_generated
from domain.payments.balances import matchable_items
from domain.payments.camt053 import read_camt053
from domain.payments.clarification import start_clarification
from domain.payments.commands import Booking, Settlement, book_many, lock_payments, require_payments, settlements_of
from domain.payments.matching import LineDecision, match_statement_lines
from domain.payments.models import BankStatementImport, BankStatementLine
from domain.payments.mt940_statements import read_mt940
from domain.payments.statements import BankStatement, StatementFormatError, StatementLine
from kernel.clock import utcnow
from kernel.db import transaction
from kernel.documents import DocumentStore
from kernel.errors import ValidationFailed
from kernel.principal import Principal
from runtime import queue
from runtime.runtime import ProcessRuntime

MEDIA_TYPES = {"camt053": "application/xml", "mt940": "text/plain"}
FINGERPRINT_CHUNK = 500  # fingerprints looked up per query (well below every database's parameter limit)


def _describe(row: BankStatementImport) -> dict:
    return {"operation": "payments.import_statement"}


STATEMENT_IMPORTS = queue.register(queue.Queue(
    name="statement_import", model=BankStatementImport, describe=_describe,
    states=queue.States(ready="received", claimed="importing", done="imported", dead="failed")))
IMPORT_POLICY = queue.Policy(lease_seconds=600, backoff_max_seconds=600, max_attempts=3, backoff_base_seconds=30)


def read_statement_file(content: bytes, max_bytes: int) -> tuple[str, tuple[BankStatement, ...]]:
    """(format, statements) of a file, by what its bytes are: XML is CAMT.053, `:20:` … is MT940.
    Anything else, or a file the reader refuses, is a ValidationFailed naming the problem."""
    def refused(message: str) -> ValidationFailed:
        return ValidationFailed("the bank statement was refused", [{"field": "file", "message": message}])

    if not content:
        raise refused("the file is empty")
    if len(content) > max_bytes:
        raise refused(f"the file is larger than {max_bytes} bytes")
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    fmt = "camt053" if head.startswith(b"<") else "mt940" if b":20:" in head else None
    if fmt is None:
        raise refused("neither a CAMT.053 (XML) nor an MT940 statement")
    try:
        statements = read_camt053(content, max_bytes=max_bytes) if fmt == "camt053" else \
            read_mt940(content, max_bytes=max_bytes)
    except StatementFormatError as error:
        raise refused(str(error)) from None
    except (ValueError, UnicodeError, LookupError) as error:  # a reader's own check (e.g. a negative amount)
        raise refused(f"{'CAMT.053' if fmt == 'camt053' else 'MT940'} not readable: {error}") from None
    accounts = {s.account_iban for s in statements}
    if len(accounts) > 1:
        raise refused(f"statements of several accounts in one file ({', '.join(sorted(accounts))}): one at a time")
    currencies = {s.currency for s in statements if s.currency}
    if len(currencies) > 1:
        raise refused(f"statements in several currencies in one file ({', '.join(sorted(currencies))})")
    return fmt, statements


def receive_statement(session: Session, store: DocumentStore, owners: DocumentOwners, who: Principal,
                      filename: str, content: bytes, max_bytes: int) -> BankStatementImport:
    """Check and keep an uploaded statement file; the worker books it (the row waits as `received`)."""
    require_payments(who)
    fmt, statements = read_statement_file(content, max_bytes)
    first = statements[0]
    dates = [d for s in statements for d in (s.from_date, s.to_date) if d is not None]
    row = BankStatementImport(
        format=fmt, source_format=first.source_format, account_iban=first.account_iban,
        statement_id=", ".join(dict.fromkeys(s.statement_id for s in statements))[:200],
        from_date=min(dates) if dates else None, to_date=max(dates) if dates else None,
        currency=first.currency or "EUR", filename=(filename or "statement")[:255], state="received",
        lines_total=sum(len(s.lines) for s in statements), counts={}, uploaded_by=who.username)
    session.add(row)
    session.flush()
    document = store_generated(session, store, owners, "bank_statement", row.id, row.filename, MEDIA_TYPES[fmt],
                               content, who.username, visible_to_customer=False)
    row.document_id = document.id
    return row


@dataclass(frozen=True)
class ImportSummary:
    statement_id: int
    label: str  # "CAMT 2026-11-30"
    lines: int
    counts: dict[str, int]

    @property
    def name(self) -> str:
        """What the import did, in a flow run's name: "statement import CAMT 2026-11-30: 4 lines, 3 matched"."""
        done = ", ".join(f"{n} {outcome}" for outcome, n in self.counts.items() if n)
        return f"statement import {self.label}: {self.lines} lines" + (f", {done}" if done else "")


def import_statement(session: Session, store: DocumentStore, runtime: ProcessRuntime, statement_id: int,
                     attempt: int, today: date) -> ImportSummary:
    """Book the statement file (claimed as `attempt` of its queue item) in the caller's transaction."""
    lock_payments(session)
    row = session.scalar(select(BankStatementImport).where(BankStatementImport.id == statement_id).with_for_update())
    assert row is not None and row.document_id is not None
    _, _, content = store.load(session, row.document_id)
    statements = read_camt053(content, max_bytes=len(content) + 1) if row.format == "camt053" else \
        read_mt940(content, max_bytes=len(content) + 1)
    lines = _new_lines(session, [line for s in statements for line in s.lines])
    returns = [line.end_to_end_id for line in lines if line.is_return and line.end_to_end_id]
    items = matchable_items(session, today=today, include_numbers=returns)
    decisions = match_statement_lines(lines, items)
    counts: Counter[str] = Counter({outcome: 0 for outcome in ("matched", "partial", "overpaid", "returned",
                                                               "unmatched")})
    counts["duplicate"] = row.lines_total - len(lines)
    records = [_line_record(row.id, line, decision) for line, decision in zip(lines, decisions, strict=True)]
    line_ids = list(session.scalars(insert(BankStatementLine).returning(BankStatementLine.id,
                                                                        sort_by_parameter_order=True), records)) \
        if records else []
    bookings = []
    for line, decision, line_id in zip(lines, decisions, line_ids, strict=True):
        counts[decision.outcome] += 1
        booking = _booking(line, decision, line_id)
        if booking is not None:
            bookings.append(booking)
    book_many(session, bookings, row.uploaded_by)
    starter = Principal(row.uploaded_by, frozenset())
    waiting = list(session.scalars(select(BankStatementLine).where(
        BankStatementLine.statement_id == row.id, BankStatementLine.clarification == "open")
        .order_by(BankStatementLine.position)))
    for record in waiting:
        start_clarification(session, runtime, starter, record)
    label = f"{'CAMT' if row.format == 'camt053' else 'MT940'} {row.to_date or row.from_date or row.statement_id}"
    summary = ImportSummary(row.id, label, row.lines_total, dict(counts))
    if not queue.record_done(session, STATEMENT_IMPORTS, row.id, attempt, counts=summary.counts,
                             imported_at=utcnow()):
        raise RuntimeError(f"statement {row.id}: the claim was taken over meanwhile; nothing is booked")
    return summary


def _new_lines(session: Session, lines: list[StatementLine]) -> list[StatementLine]:
    """The lines whose fingerprint no earlier import (and no earlier line of this file) has."""
    fingerprints = [line.fingerprint for line in lines]
    known: set[str] = set()
    for start in range(0, len(fingerprints), FINGERPRINT_CHUNK):
        chunk = fingerprints[start:start + FINGERPRINT_CHUNK]
        known.update(session.scalars(select(BankStatementLine.fingerprint)
                                     .where(BankStatementLine.fingerprint.in_(chunk))))
    new = []
    for line in lines:
        if line.fingerprint not in known:
            known.add(line.fingerprint)
            new.append(line)
    return new


def _line_record(statement_id: int, line: StatementLine, decision: LineDecision) -> dict:
    # money in that no rule explains, and returned debits without their invoice, wait for a person;
    # other money out (rent, salaries) is no customer payment and is only listed
    open_question = decision.outcome == "unmatched" and (line.direction == "credit" or line.is_return) \
        and decision.reason != "return_credit"
    return dict(
        statement_id=statement_id, position=line.position, fingerprint=line.fingerprint, amount=line.amount,
        direction=line.direction, currency=line.currency, booking_date=line.booking_date,
        value_date=line.value_date, remittance=line.remittance[:4000],
        end_to_end_id=_cut(line.end_to_end_id, 100), mandate_reference=_cut(line.mandate_reference, 100),
        counterparty_name=_cut(line.counterparty_name, 200), counterparty_iban=_cut(line.counterparty_iban, 34),
        entry_reference=_cut(line.entry_reference, 100), is_return=line.is_return,
        return_reason=_cut(line.return_reason, 40), outcome=decision.outcome, rule=decision.rule,
        reason=decision.reason, customer_id=_id(decision.customer_id),
        clarification="open" if open_question else None, clarified_by=None, clarified_at=None,
        clarification_note=None)


def _booking(line: StatementLine, decision: LineDecision, line_id: int) -> Booking | None:
    customer_id = _id(decision.customer_id)
    if customer_id is None or decision.outcome == "unmatched":
        return None
    reference = line.remittance or line.end_to_end_id
    if decision.outcome == "returned":
        return Booking(customer_id, -line.amount, line.currency, line.booking_date, "statement", reference, line_id,
                       [Settlement(int(r.item_id), reopen=r.amount) for r in decision.reopened])
    return Booking(customer_id, line.amount, line.currency, line.booking_date, "statement", reference, line_id,
                   settlements_of(decision.allocations), decision.overpayment)


def _cut(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def _id(value: int | str | None) -> int | None:
    return None if value is None else int(value)


def has_due_statements(session: Session) -> bool:
    """Whether a statement file waits to be booked (the worker looks before it starts a flow run)."""
    return queue.has_due(session, STATEMENT_IMPORTS)


def run_statement_imports(factory: sessionmaker[Session], store: DocumentStore, runtime: ProcessRuntime, log,
                          limit: int = 5) -> list[ImportSummary]:
    """Claim up to `limit` waiting statement files and book each in a transaction of its own; a file
    that fails is retried with backoff and, after the last attempt, is an incident for ops."""
    done = []
    for claimed in queue.claim(factory, STATEMENT_IMPORTS, IMPORT_POLICY, limit):
        try:
            with transaction(factory) as session:
                summary = import_statement(session, store, runtime, claimed.id, claimed.attempt, utcnow().date())
        except Exception as exc:  # noqa: BLE001 - recorded on the item (retry or incident), the next file still runs
            log.exception("statement %s: import attempt %s failed", claimed.id, claimed.attempt)
            with transaction(factory) as session:
                outcome, _ = queue.record_failure(session, STATEMENT_IMPORTS, IMPORT_POLICY, claimed.id,
                                                  claimed.attempt, f"{type(exc).__name__}: {exc}"[:2000])
            log.error("statement %s: %s", claimed.id, outcome)
            continue
        log.info("statement %s: %s", claimed.id, summary.name)
        done.append(summary)
    return done
