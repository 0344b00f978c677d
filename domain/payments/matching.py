"""Which open items a bank statement line pays: pure, deterministic, to the cent.

Rules, in this order, for each line in statement order (a line's allocations change what is open
for the lines after it):
1. A debit never pays an invoice. A returned direct debit re-opens what the original collection
   paid: found by its end-to-end id (= the invoice number) or else its mandate reference.
2. Invoice and credit-note numbers in the references (tolerant spellings, references.py). Several
   invoices in one payment are paid oldest first; named credit notes are netted against them.
3. Amount and customer: the payer's IBAN is known to exactly one customer, and exactly one of that
   customer's open items (or one set of them) has the amount.
4. Anything else goes to the clarification list with its reason.
Skonto is granted only when the booking date is on or before the last Skonto day and the amount
equals gross minus Skonto within a cent; otherwise the payment is a partial payment."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations
from typing import Literal

from domain.payments.open_items import ItemKind, OpenItem, SkontoShare, split_skonto
from domain.payments.references import DocumentKey, document_key, keys_in_text, number_pattern
from domain.payments.statements import StatementLine

Outcome = Literal["matched", "partial", "overpaid", "returned", "unmatched"]
TOLERANCE = Decimal("0.01")
ZERO = Decimal(0)
SUBSET_LIMIT = 12  # a customer's open items searched for a set that adds up to a payment (2^12 sums)

REASONS = {  # why a line goes to the clarification list: (German, English)
    "debit": ("Abbuchung: bezahlt keine Rechnung", "debit: pays no invoice"),
    "return_credit": ("Rückbuchung zu unseren Gunsten: keine Kundenzahlung",
                      "reversal in our favour: no customer payment"),
    "return_unknown": ("Rücklastschrift ohne zugehörige Rechnung", "returned direct debit without a known invoice"),
    "several_customers": ("Belegnummern mehrerer Kunden in einer Zahlung",
                          "numbers of several customers in one payment"),
    "currency": ("Währung passt zu keinem offenen Posten", "currency matches no open item"),
    "unknown_number": ("Belegnummer unbekannt", "document number unknown"),
    "iban_several_customers": ("IBAN gehört zu mehreren Kunden", "IBAN belongs to several customers"),
    "no_amount_match": ("Kunde erkannt, aber kein offener Posten mit diesem Betrag",
                        "customer known, but no open item with this amount"),
    "ambiguous_amount": ("Mehrere offene Posten mit diesem Betrag", "several open items with this amount"),
    "no_reference": ("Keine Belegnummer und unbekanntes Konto", "no document number and unknown account"),
}


@dataclass(frozen=True)
class Allocation:
    """What a line does to one item: `amount` settled by money or credit (for a credit note: the credit
    used), `skonto` granted on top (with its net and tax per rate), `settled` when nothing stays open."""
    item_id: int | str
    number: str
    kind: ItemKind
    amount: Decimal
    skonto: Decimal = ZERO
    skonto_shares: tuple[SkontoShare, ...] = ()
    settled: bool = False


@dataclass(frozen=True)
class Reopening:
    """An item a returned direct debit opens again, by the amount the collection had paid."""
    item_id: int | str
    number: str
    amount: Decimal


@dataclass(frozen=True)
class LineDecision:
    """The decision for one statement line. For money in: invoice allocations minus credit-note
    allocations plus `overpayment` equal the line's amount. `unallocated` is what no item explains
    (all of an unmatched line; the bank's charge on a returned debit)."""
    position: int
    fingerprint: str
    outcome: Outcome
    rule: str
    customer_id: int | str | None = None
    allocations: tuple[Allocation, ...] = ()
    overpayment: Decimal = ZERO
    reopened: tuple[Reopening, ...] = ()
    unallocated: Decimal = ZERO
    reason: str | None = None

    @property
    def reason_texts(self) -> tuple[str, str] | None:
        """(German, English) of the reason of an unmatched line."""
        return None if self.reason is None else REASONS[self.reason]


@dataclass
class _Book:
    """The open items, indexed once, and what is open while the lines are worked through."""
    items: Sequence[OpenItem]
    prefixes: tuple[str, ...]
    open: dict[int | str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pattern = number_pattern(self.prefixes)
        self.by_key: dict[DocumentKey, OpenItem] = {}
        self.by_iban: dict[str, set[int | str]] = defaultdict(set)
        self.by_customer: dict[int | str, list[OpenItem]] = defaultdict(list)
        self.by_amount: dict[tuple[int | str, str, Decimal], list[OpenItem]] = defaultdict(list)
        self.by_mandate: dict[str, list[OpenItem]] = defaultdict(list)
        for item in sorted(self.items, key=_age):
            self.open[item.item_id] = item.open_amount
            key = document_key(item.number, self.pattern)
            if key is not None:
                self.by_key[key] = item
            for iban in item.customer_ibans:
                self.by_iban[iban.replace(" ", "").upper()].add(item.customer_id)
            if item.kind == "invoice":
                self.by_customer[item.customer_id].append(item)
                self.by_amount[(item.customer_id, item.currency, item.open_amount)].append(item)
                if item.skonto_percent:
                    discounted = item.gross - item.skonto_amount()
                    self.by_amount[(item.customer_id, item.currency, discounted)].append(item)
            if item.mandate_reference:
                self.by_mandate[item.mandate_reference].append(item)

    def settle(self, item: OpenItem, amount: Decimal) -> None:
        self.open[item.item_id] -= amount
        if item.kind == "invoice" and self.open[item.item_id] > 0:
            self.by_amount[(item.customer_id, item.currency, self.open[item.item_id])].append(item)


def _age(item: OpenItem) -> tuple:
    return (item.issue_date or item.due_date, item.number)


def match_statement_lines(lines: Iterable[StatementLine], items: Sequence[OpenItem], *,
                          prefixes: tuple[str, ...] = ("INV", "CN")) -> list[LineDecision]:
    """One decision per line, in the lines' order. `prefixes` are the number series the references
    are searched for (the invoice and the credit-note series)."""
    book = _Book(items, prefixes)
    return [_decide(line, book) for line in lines]


def _decide(line: StatementLine, book: _Book) -> LineDecision:
    if line.is_return:
        return _returned(line, book)
    if line.direction == "debit":
        return _unmatched(line, "debit")
    keys = keys_in_text(" ".join(filter(None, (line.remittance, line.end_to_end_id, line.creditor_reference))),
                        book.pattern)
    named = [book.by_key[key] for key in keys if key in book.by_key]
    if named:
        return _by_numbers(line, named, book)
    decision = _by_amount_and_customer(line, book)
    if decision.reason == "no_reference" and keys:
        return _unmatched(line, "unknown_number")
    return decision


def _unmatched(line: StatementLine, reason: str, customer_id: int | str | None = None) -> LineDecision:
    return LineDecision(line.position, line.fingerprint, "unmatched", "none", customer_id=customer_id,
                        unallocated=line.amount, reason=reason)


def _returned(line: StatementLine, book: _Book) -> LineDecision:
    if line.direction == "credit":
        return _unmatched(line, "return_credit")
    item = None
    rule = "end_to_end_id"
    key = document_key(line.end_to_end_id, book.pattern) if line.end_to_end_id else None
    if key is not None and key in book.by_key:
        item = book.by_key[key]
    elif line.mandate_reference:
        rule = "mandate"
        paid = [i for i in book.by_mandate.get(line.mandate_reference, ())
                if ZERO < i.gross - book.open[i.item_id] <= line.amount]
        item = paid[0] if len(paid) == 1 else None
    if item is None or item.gross - book.open[item.item_id] <= 0:
        return _unmatched(line, "return_unknown", item.customer_id if item else None)
    amount = min(item.gross - book.open[item.item_id], line.amount)
    book.open[item.item_id] += amount
    book.by_amount[(item.customer_id, item.currency, book.open[item.item_id])].append(item)
    return LineDecision(line.position, line.fingerprint, "returned", rule, customer_id=item.customer_id,
                        reopened=(Reopening(item.item_id, item.number, amount),),
                        unallocated=line.amount - amount)


def _by_numbers(line: StatementLine, named: list[OpenItem], book: _Book) -> LineDecision:
    same_currency = [item for item in named if item.currency == line.currency]
    if not same_currency:
        return _unmatched(line, "currency", named[0].customer_id)
    customers = {item.customer_id for item in same_currency}
    if len(customers) > 1:
        return _unmatched(line, "several_customers")
    customer = customers.pop()
    invoices = sorted((i for i in same_currency if i.kind == "invoice" and book.open[i.item_id] > 0), key=_age)
    credits = sorted((i for i in same_currency if i.kind == "credit_note" and book.open[i.item_id] > 0), key=_age)
    credit_total = sum((book.open[c.item_id] for c in credits), ZERO)
    if not invoices:  # everything named is paid already: the money is the customer's credit
        return LineDecision(line.position, line.fingerprint, "overpaid", "invoice_number", customer_id=customer,
                            overpayment=line.amount)
    allocations = _with_skonto(line, invoices, book, line.amount + credit_total)
    if allocations is None:
        allocations = _oldest_first(invoices, book, line.amount + credit_total)
    invoice_total = sum((a.amount for a in allocations), ZERO)
    used_credit = min(credit_total, invoice_total)
    credit_allocations = _use_credits(credits, book, used_credit)
    for allocation, item in (*zip(allocations, invoices, strict=False), *zip(credit_allocations, credits, strict=True)):
        book.settle(item, allocation.amount + allocation.skonto)
    allocations += credit_allocations
    overpayment = line.amount + used_credit - invoice_total
    outcome: Outcome = ("overpaid" if overpayment > 0 else
                        "matched" if all(a.settled for a in allocations if a.kind == "invoice") else "partial")
    return LineDecision(line.position, line.fingerprint, outcome, "invoice_number", customer_id=customer,
                        allocations=tuple(allocations), overpayment=overpayment)


def _with_skonto(line: StatementLine, invoices: list[OpenItem], book: _Book,
                 available: Decimal) -> list[Allocation] | None:
    """All invoices settled with Skonto, when every one may have it and the money fits within a cent
    (the difference is taken into the last invoice's Skonto, so each item closes exactly)."""
    if not all(i.skonto_allowed(line.booking_date, book.open[i.item_id]) for i in invoices):
        return None
    skontos = [i.skonto_amount() for i in invoices]
    target = sum((book.open[i.item_id] for i in invoices), ZERO) - sum(skontos, ZERO)
    if abs(available - target) > TOLERANCE:
        return None
    skontos[-1] -= available - target
    return [Allocation(i.item_id, i.number, "invoice", book.open[i.item_id] - s, s, split_skonto(s, i.gross_by_rate),
                       True) for i, s in zip(invoices, skontos, strict=True)]


def _oldest_first(invoices: list[OpenItem], book: _Book, available: Decimal) -> list[Allocation]:
    allocations = []
    for item in invoices:
        if available <= 0:
            break
        amount = min(book.open[item.item_id], available)
        available -= amount
        allocations.append(Allocation(item.item_id, item.number, "invoice", amount,
                                      settled=amount == book.open[item.item_id]))
    return allocations


def _use_credits(credits: list[OpenItem], book: _Book, used: Decimal) -> list[Allocation]:
    allocations = []
    for credit in credits:
        amount = min(book.open[credit.item_id], used)
        used -= amount
        allocations.append(Allocation(credit.item_id, credit.number, "credit_note", amount,
                                      settled=amount == book.open[credit.item_id]))
    return allocations


def _by_amount_and_customer(line: StatementLine, book: _Book) -> LineDecision:
    customers = book.by_iban.get(line.counterparty_iban or "", set())
    if not customers:
        return _unmatched(line, "no_reference")
    if len(customers) > 1:
        return _unmatched(line, "iban_several_customers")
    customer = next(iter(customers))
    candidates = []
    for item in book.by_amount.get((customer, line.currency, line.amount), ()):
        is_open = book.open[item.item_id] == line.amount
        discounted = item.skonto_allowed(line.booking_date, book.open[item.item_id]) and \
            item.gross - item.skonto_amount() == line.amount
        if (is_open or discounted) and item not in candidates:
            candidates.append(item)
    if len(candidates) > 1:
        return _unmatched(line, "ambiguous_amount", customer)
    if candidates:
        chosen = candidates
    else:
        chosen = _set_with_amount(line, book.by_customer[customer], book)
        if chosen is None:
            return _unmatched(line, "no_amount_match", customer)
    allocations = _with_skonto(line, chosen, book, line.amount) if len(chosen) == 1 else None
    if allocations is None:
        allocations = _oldest_first(chosen, book, line.amount)
    for allocation, item in zip(allocations, chosen, strict=True):
        book.settle(item, allocation.amount + allocation.skonto)
    return LineDecision(line.position, line.fingerprint, "matched", "amount_and_customer", customer_id=customer,
                        allocations=tuple(allocations))


def _set_with_amount(line: StatementLine, items: list[OpenItem], book: _Book) -> list[OpenItem] | None:
    """The one set of the customer's open items (same currency) whose open amounts add up to the line:
    all of them, the oldest ones, or, for a customer with few open items, the only subset that does."""
    open_items = [i for i in items if i.currency == line.currency and book.open[i.item_id] > 0]
    running = ZERO
    for count, item in enumerate(open_items, start=1):
        running += book.open[item.item_id]
        if running == line.amount:
            return open_items[:count]
        if running > line.amount:
            break
    if not 1 < len(open_items) <= SUBSET_LIMIT:
        return None
    found = [subset for size in range(2, len(open_items) + 1) for subset in combinations(open_items, size)
             if sum((book.open[i.item_id] for i in subset), ZERO) == line.amount]
    return list(found[0]) if len(found) == 1 else None
