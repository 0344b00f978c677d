"""Matching statement lines to open items: each rule in its order, deterministic and to the cent.

Invoice numbers in tolerant spellings, several invoices in one payment (oldest first), credit notes
netted, partial and over-payments, Skonto in time with its net and tax per rate and too late as a
partial payment, amount and customer by the payer's IBAN, returned direct debits re-opening the
invoice, and every unmatched line with its reason."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from domain.payments.camt053 import read_camt053
from domain.payments.matching import REASONS, Allocation, match_statement_lines
from domain.payments.open_items import OpenItem, SkontoShare, TaxPortion, split_skonto
from domain.payments.statements import StatementLine

MUELLER_IBAN = "DE89370400440532013000"
WEISS_IBAN = "DE12500105170648489890"
DAY = date(2026, 12, 4)


def invoice(number, customer=1, gross="1190.00", open_amount=None, ibans=(MUELLER_IBAN,), issued=None, **extra):
    gross = D(gross)
    return OpenItem(item_id=number, number=number, customer_id=customer, currency=extra.pop("currency", "EUR"),
                    open_amount=gross if open_amount is None else D(open_amount), gross=gross,
                    due_date=date(2026, 12, 31), customer_ibans=frozenset(ibans), issue_date=issued,
                    gross_by_rate=extra.pop("gross_by_rate", (TaxPortion(D(19), gross),)), **extra)


def skonto_invoice(number="INV-2026-0012", until=DAY, **extra):
    return invoice(number, skonto_percent=D(2), skonto_until=until, **extra)


def line(amount, text="", *, position=1, direction="credit", iban=MUELLER_IBAN, booked=DAY, **extra):
    return StatementLine(position=position, amount=D(amount), direction=direction,
                         currency=extra.pop("currency", "EUR"), booking_date=booked, remittance=text,
                         counterparty_iban=iban,
                         fingerprint=f"fp{position}", **extra)


def decide(lines, items):
    lines = lines if isinstance(lines, list) else [lines]
    return match_statement_lines(lines, items)


def one(lines, items):
    decisions = decide(lines, items)
    assert len(decisions) == 1
    return decisions[0]


def balance_of(decision, amount):
    """Invoice allocations minus credit used plus over-payment equal the money received."""
    invoices = sum((a.amount for a in decision.allocations if a.kind == "invoice"), D(0))
    credits = sum((a.amount for a in decision.allocations if a.kind == "credit_note"), D(0))
    return invoices - credits + decision.overpayment == D(amount)


@pytest.mark.parametrize("text", ["INV-2026-0012", "Rechnung INV-2026-0012", "INV 2026 12", "INV-2026-12",
                                  "inv20260012 danke", "Re.Nr. INV/2026/0012."])
def test_invoice_number_in_any_spelling_pays_the_invoice(text):
    decision = one(line("1190.00", text, iban="DE44500105175407324931"), [invoice("INV-2026-0012")])
    assert (decision.outcome, decision.rule, decision.customer_id) == ("matched", "invoice_number", 1)
    assert decision.allocations == (Allocation("INV-2026-0012", "INV-2026-0012", "invoice", D("1190.00"),
                                               settled=True),)


def test_number_in_the_end_to_end_id_counts_too():
    decision = one(line("1190.00", "", end_to_end_id="INV-2026-0012"), [invoice("INV-2026-0012")])
    assert decision.outcome == "matched"


def test_a_longer_running_number_is_not_taken_for_a_shorter_one():
    decision = one(line("1190.00", "INV-2026-00125", iban=None), [invoice("INV-2026-0012")])
    assert (decision.outcome, decision.reason) == ("unmatched", "unknown_number")


def test_partial_payment_leaves_the_rest_open_and_the_next_line_sees_it():
    first, second = decide([line("500.00", "INV-2026-0012"), line("690.00", "INV-2026-0012", position=2)],
                           [invoice("INV-2026-0012")])
    assert (first.outcome, first.allocations[0].amount, first.allocations[0].settled) == ("partial", D("500.00"), False)
    assert (second.outcome, second.allocations[0].amount, second.allocations[0].settled) == (
        "matched", D("690.00"), True)


def test_over_payment_settles_the_invoice_and_leaves_credit_on_the_customer():
    decision = one(line("1200.00", "INV-2026-0012"), [invoice("INV-2026-0012")])
    assert (decision.outcome, decision.overpayment, decision.customer_id) == ("overpaid", D("10.00"), 1)
    assert decision.allocations[0].settled and balance_of(decision, "1200.00")


def test_paying_an_invoice_twice_is_credit_on_the_customer():
    decision = one(line("1190.00", "INV-2026-0012"), [invoice("INV-2026-0012", open_amount="0")])
    assert (decision.outcome, decision.overpayment, decision.allocations) == ("overpaid", D("1190.00"), ())


def test_several_invoices_in_one_payment_are_paid_oldest_first():
    items = [invoice("INV-2026-0015", gross="100.00", issued=date(2026, 11, 20)),
             invoice("INV-2026-0012", gross="200.00", issued=date(2026, 11, 2)),
             invoice("INV-2026-0013", gross="300.00", issued=date(2026, 11, 10))]
    decision = one(line("450.00", "INV-2026-0015, INV 2026 12 und INV-2026-13"), items)
    assert decision.outcome == "partial"
    assert [(a.number, a.amount, a.settled) for a in decision.allocations] == [
        ("INV-2026-0012", D("200.00"), True), ("INV-2026-0013", D("250.00"), False)]
    full = one(line("600.00", "INV-2026-0015, INV 2026 12 und INV-2026-13"), items)
    assert full.outcome == "matched" and all(a.settled for a in full.allocations) and balance_of(full, "600.00")


def test_a_named_credit_note_is_netted_against_the_invoice():
    items = [invoice("INV-2026-0012"), invoice("CN-2026-0003", gross="119.00", kind="credit_note")]
    decision = one(line("1071.00", "INV-2026-0012 abzgl. Gutschrift CN-2026-0003"), items)
    assert decision.outcome == "matched"
    assert [(a.number, a.kind, a.amount, a.settled) for a in decision.allocations] == [
        ("INV-2026-0012", "invoice", D("1190.00"), True), ("CN-2026-0003", "credit_note", D("119.00"), True)]
    assert balance_of(decision, "1071.00")


def test_skonto_in_time_settles_the_invoice_with_its_tax_share():
    decision = one(line("1166.20", "INV-2026-0012", booked=DAY), [skonto_invoice(until=DAY)])
    assert decision.outcome == "matched"
    allocation = decision.allocations[0]
    assert (allocation.amount, allocation.skonto, allocation.settled) == (D("1166.20"), D("23.80"), True)
    assert allocation.skonto_shares == (SkontoShare(D(19), D("23.80"), D("20.00"), D("3.80")),)


def test_skonto_within_a_cent_closes_the_invoice_exactly():
    decision = one(line("1166.19", "INV-2026-0012"), [skonto_invoice()])
    allocation = decision.allocations[0]
    assert (decision.outcome, allocation.amount, allocation.skonto) == ("matched", D("1166.19"), D("23.81"))
    assert one(line("1166.18", "INV-2026-0012"), [skonto_invoice()]).outcome == "partial"


def test_skonto_too_late_is_a_partial_payment():
    decision = one(line("1166.20", "INV-2026-0012", booked=date(2026, 12, 5)), [skonto_invoice(until=DAY)])
    assert (decision.outcome, decision.allocations[0].amount, decision.allocations[0].skonto) == (
        "partial", D("1166.20"), D("0"))


def test_skonto_split_over_two_tax_rates():
    portions = (TaxPortion(D(19), D("1190.00")), TaxPortion(D(7), D("535.00")))
    item = skonto_invoice(gross="1725.00", gross_by_rate=portions)
    decision = one(line("1690.50", "INV-2026-0012"), [item])
    allocation = decision.allocations[0]
    assert allocation.skonto == D("34.50")
    assert allocation.skonto_shares == (SkontoShare(D(19), D("23.80"), D("20.00"), D("3.80")),
                                        SkontoShare(D(7), D("10.70"), D("10.00"), D("0.70")))
    assert sum(share.gross for share in split_skonto(D("0.03"), portions)) == D("0.03")


def test_amount_and_customer_when_no_number_is_given():
    items = [invoice("INV-2026-0012", gross="500.00"), invoice("INV-2026-0013", gross="1190.00"),
             invoice("INV-2026-0020", customer=2, gross="1190.00", ibans=(WEISS_IBAN,))]
    decision = one(line("1190.00", "Danke für die Lieferung"), items)
    assert (decision.outcome, decision.rule, decision.customer_id) == ("matched", "amount_and_customer", 1)
    assert [a.number for a in decision.allocations] == ["INV-2026-0013"]


def test_amount_and_customer_with_skonto_in_time():
    decision = one(line("1166.20", "Zahlung"), [skonto_invoice()])
    assert (decision.rule, decision.allocations[0].skonto) == ("amount_and_customer", D("23.80"))


def test_amount_and_customer_for_a_set_of_the_customers_items():
    items = [invoice("INV-2026-0011", gross="100.00", issued=date(2026, 10, 1)),
             invoice("INV-2026-0012", gross="250.00", issued=date(2026, 10, 2)),
             invoice("INV-2026-0013", gross="75.00", issued=date(2026, 10, 3))]
    decision = one(line("175.00", "Sammelzahlung"), items)
    assert decision.outcome == "matched"
    assert [a.number for a in decision.allocations] == ["INV-2026-0011", "INV-2026-0013"]


def test_unmatched_lines_carry_their_reason():
    items = [invoice("INV-2026-0012", gross="100.00"), invoice("INV-2026-0013", gross="100.00"),
             invoice("INV-2026-0030", customer=2, gross="50.00", ibans=(WEISS_IBAN, "DE44500105175407324931")),
             invoice("INV-2026-0031", customer=3, gross="50.00", ibans=("DE44500105175407324931",))]
    cases = {
        "debit": line("100.00", "INV-2026-0012", direction="debit"),
        "ambiguous_amount": line("100.00", "Zahlung"),
        "no_amount_match": line("99.99", "Zahlung"),
        "no_reference": line("100.00", "Zahlung", iban="DE27100777770209299700"),
        "unknown_number": line("100.00", "INV-2026-9999", iban=None),
        "iban_several_customers": line("50.00", "Zahlung", iban="DE44500105175407324931"),
        "several_customers": line("150.00", "INV-2026-0012 INV-2026-0030"),
        "currency": line("100.00", "INV-2026-0012", currency="CHF"),
    }
    for reason, statement_line in cases.items():
        decision = one(statement_line, items)
        assert (decision.outcome, decision.reason, decision.unallocated) == ("unmatched", reason,
                                                                              statement_line.amount), reason
        assert decision.reason_texts == REASONS[reason] and all(decision.reason_texts)


def test_returned_direct_debit_reopens_the_invoice_by_end_to_end_id_and_by_mandate():
    item = invoice("INV-2026-0014", customer=2, ibans=(WEISS_IBAN,), mandate_reference="KONTOR-M-0009")
    collected = line("1190.00", "INV-2026-0014", iban=WEISS_IBAN, end_to_end_id="INV-2026-0014")
    returned = line("1193.00", "RUECKLASTSCHRIFT", position=2, direction="debit", iban=WEISS_IBAN,
                    end_to_end_id="INV-2026-0014", is_return=True, return_reason="AM04")
    paid, back = decide([collected, returned], [item])
    assert paid.outcome == "matched"
    assert (back.outcome, back.rule, back.customer_id, back.unallocated) == ("returned", "end_to_end_id", 2, D("3.00"))
    assert [(r.number, r.amount) for r in back.reopened] == [("INV-2026-0014", D("1190.00"))]
    by_mandate = one(replace(returned, end_to_end_id=None, mandate_reference="KONTOR-M-0009"),
                     [replace(item, open_amount=D(0))])
    assert (by_mandate.rule, by_mandate.reopened[0].amount) == ("mandate", D("1190.00"))
    unknown = one(replace(returned, end_to_end_id=None), [replace(item, open_amount=D(0))])
    assert (unknown.outcome, unknown.reason) == ("unmatched", "return_unknown")


def test_the_sample_statement_end_to_end():
    statement = read_camt053(Path(__file__).parent / "data" / "camt053_sparkasse.xml")[0]
    items = [invoice("INV-2026-0012"),
             invoice("INV-2026-0013", customer=3, gross="357.00", ibans=("DE75512108001245126199",)),
             invoice("INV-2026-0014", customer=2, ibans=(WEISS_IBAN,), mandate_reference="KONTOR-M-0009")]
    decisions = match_statement_lines(statement.lines, items)
    assert [(d.position, d.outcome, d.reason) for d in decisions] == [
        (1, "matched", None), (2, "matched", None), (3, "matched", None), (4, "returned", None),
        (5, "unmatched", "no_reference"), (6, "unmatched", "no_reference"), (7, "unmatched", "no_reference"),
        (8, "unmatched", "debit")]
    assert [d.fingerprint for d in decisions] == [line.fingerprint for line in statement.lines]
    assert decisions == match_statement_lines(statement.lines, items)  # deterministic


def test_open_items_refuse_inconsistent_data():
    with pytest.raises(ValueError, match="gross per tax rate"):
        invoice("INV-2026-0001", gross_by_rate=(TaxPortion(D(19), D("1.00")),))
    with pytest.raises(ValueError, match="Skonto needs"):
        invoice("INV-2026-0001", skonto_percent=D(2), gross_by_rate=())
