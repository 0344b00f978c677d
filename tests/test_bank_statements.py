"""Bank statements read from CAMT.053 (versions .02 and .08) and MT940 into the same dataclasses:
batch entries give one line per transaction detail, returned direct debits carry their reason,
umlauts survive, malformed and hostile files are refused with a message naming the problem, and
each line's fingerprint is stable across imports yet tells identical transfers apart."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.payments.camt053 import read_camt053
from domain.payments.mt940_statements import read_mt940
from domain.payments.statements import StatementFormatError, StatementLine, line_fingerprint

DATA = Path(__file__).parent / "data"
CAMT = DATA / "camt053_sparkasse.xml"
MT940 = DATA / "mt940_sparkasse.sta"


def only(statements):
    assert len(statements) == 1
    return statements[0]


def test_camt053_statement_and_its_balances():
    statement = only(read_camt053(CAMT))
    assert statement.source_format == "camt.053.001.08"
    assert (statement.account_iban, statement.statement_id, statement.sequence) == (
        "DE02120300000000202051", "2026-12-04-00231", "231")
    assert (statement.from_date, statement.to_date) == (date(2026, 12, 4), date(2026, 12, 4))
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("12500.00"), Decimal("14660.55"))
    assert statement.opening_balance + sum(line.signed_amount for line in statement.lines) == statement.closing_balance
    assert [line.position for line in statement.lines] == list(range(1, 9))


def test_camt053_transfer_with_unstructured_text_joined_and_umlauts():
    line = only(read_camt053(CAMT)).lines[0]
    assert (line.amount, line.direction, line.currency) == (Decimal("1190.00"), "credit", "EUR")
    assert line.remittance == "Rechnung INV-2026-0012 vom 02.11.2026 Kd-Nr. 10042 Grüße aus Göttingen"
    assert line.end_to_end_id is None  # NOTPROVIDED
    assert (line.counterparty_name, line.counterparty_iban, line.counterparty_bic) == (
        "Müller Maschinenbau GmbH", "DE89370400440532013000", "COBADEFFXXX")
    assert line.bank_code == "PMNT/RCDT/ESCT"
    assert line.entry_reference == "2026120412345678"
    assert (line.booking_date, line.value_date) == (date(2026, 12, 4), date(2026, 12, 4))


def test_camt053_batch_entry_gives_one_line_per_transaction_detail():
    lines = only(read_camt053(CAMT)).lines[1:3]
    assert [(line.amount, line.end_to_end_id, line.mandate_reference, line.counterparty_name, line.detail)
            for line in lines] == [
        (Decimal("357.00"), "INV-2026-0013", "KONTOR-M-0007", "Bäckerei Öztürk KG", 0),
        (Decimal("1190.00"), "INV-2026-0014", "KONTOR-M-0009", "Weiß & Söhne OHG", 1)]
    assert {line.entry_reference for line in lines} == {"2026120412345679"}
    assert lines[0].fingerprint != lines[1].fingerprint


def test_camt053_returned_direct_debit_with_reason():
    line = only(read_camt053(CAMT)).lines[3]
    assert (line.direction, line.amount, line.is_return, line.return_reason) == (
        "debit", Decimal("1193.00"), True, "AM04")
    assert line.end_to_end_id == "INV-2026-0014"
    assert (line.counterparty_name, line.counterparty_iban) == ("Weiß & Söhne OHG", "DE12500105170648489890")
    assert line.remittance == "RUECKLASTSCHRIFT INV-2026-0014 ENTGELT 3,00 EUR"


def test_camt053_structured_reference_and_outgoing_payment():
    lines = only(read_camt053(CAMT)).lines
    assert (lines[6].creditor_reference, lines[6].end_to_end_id, lines[6].remittance) == (
        "RF18539007547034", "E2E-20261204-77", "")
    assert lines[6].value_date == date(2026, 12, 5)
    assert (lines[7].direction, lines[7].counterparty_name, lines[7].counterparty_iban) == (
        "debit", "Büroservice Nord GmbH", "DE27100777770209299700")
    assert not lines[7].is_return


def test_camt053_version_02_layout_is_read_the_same_way():
    statement = only(read_camt053(DATA / "camt053_v02.xml"))
    assert statement.source_format == "camt.053.001.02"
    assert statement.account_iban == "DE02120300000000202051"
    assert statement.opening_balance == Decimal("-100.00")
    line = only(statement.lines)
    assert (line.amount, line.booking_date, line.counterparty_name, line.counterparty_bic, line.bank_code) == (
        Decimal("238.00"), date(2026, 12, 4), "Fa. Kühne", "COBADEFFXXX", "NTRF+166+931")


def test_fingerprints_are_stable_across_imports_and_tell_identical_transfers_apart():
    first, again = only(read_camt053(CAMT)), only(read_camt053(CAMT.read_bytes()))
    assert [line.fingerprint for line in first.lines] == [line.fingerprint for line in again.lines]
    twins = first.lines[4:6]
    assert twins[0].entry_reference is None and twins[1].entry_reference is None
    assert replace(twins[0], position=0, fingerprint="") == replace(twins[1], position=0, fingerprint="")
    assert twins[0].fingerprint != twins[1].fingerprint
    assert len({line.fingerprint for line in first.lines}) == len(first.lines)


def test_fingerprint_depends_on_what_identifies_a_line():
    line = StatementLine(position=3, amount=Decimal("10.00"), direction="credit", currency="EUR",
                         booking_date=date(2026, 12, 4))
    base = line_fingerprint("DE02120300000000202051", "S1", line)
    assert base == line_fingerprint("DE02120300000000202051", "S1", line)
    assert base != line_fingerprint("DE02120300000000202051", "S2", line)  # another statement
    assert base != line_fingerprint("DE02120300000000202051", "S1", replace(line, position=4))
    assert base != line_fingerprint("DE02120300000000202051", "S1", replace(line, amount=Decimal("10.01")))
    assert base != line_fingerprint("DE02120300000000202051", "S1", replace(line, direction="debit"))
    referenced = replace(line, entry_reference="BANKREF-1")
    # with the bank's reference the line is recognised in a re-sent statement under another id
    assert line_fingerprint("DE02120300000000202051", "S1", referenced) == \
        line_fingerprint("DE02120300000000202051", "S9", replace(referenced, position=7))
    assert line_fingerprint("DE02120300000000202051", "S1", referenced, by_reference=False) != \
        line_fingerprint("DE02120300000000202051", "S9", replace(referenced, position=7), by_reference=False)


def test_mt940_german_bank_layout():
    statement = only(read_mt940(MT940))
    assert statement.source_format == "mt940"
    assert statement.account_iban == "DE02120300000000202051"  # from bank code/account number in :25:
    assert (statement.statement_id, statement.sequence) == ("STARTUMSE", "00231/001")
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("12500.00"), Decimal("12875.55"))
    assert statement.opening_balance + sum(line.signed_amount for line in statement.lines) == statement.closing_balance
    first = statement.lines[0]
    assert (first.amount, first.direction, first.bank_code) == (Decimal("1190.00"), "credit", "166")
    assert first.remittance == "Rechnung INV-2026-0012 Müller Maschinenbau"
    assert (first.counterparty_name, first.counterparty_iban, first.counterparty_bic) == (
        "Müller Maschinenbau GmbH", "DE89370400440532013000", "COBADEFFXXX")
    assert first.end_to_end_id is None  # EREF+NOTPROVIDED
    debit = statement.lines[1]
    assert (debit.end_to_end_id, debit.mandate_reference, debit.remittance) == (
        "INV-2026-0013", "KONTOR-M-0007", "INV-2026-0013 Lastschrift Dezember")
    assert debit.counterparty_name == "Bäckerei Öztürk KG"


def test_mt940_return_debit_by_its_business_transaction_code():
    lines = only(read_mt940(MT940)).lines
    returned = lines[2]
    assert (returned.direction, returned.amount, returned.bank_code, returned.is_return, returned.return_reason) == (
        "debit", Decimal("1193.00"), "109", True, "AM04")
    assert (returned.end_to_end_id, returned.mandate_reference) == ("INV-2026-0014", "KONTOR-M-0009")
    assert not lines[5].is_return and lines[5].direction == "debit"


def test_mt940_fingerprints_stable_and_twins_apart():
    first, again = only(read_mt940(MT940)), only(read_mt940(MT940.read_bytes()))
    assert [line.fingerprint for line in first.lines] == [line.fingerprint for line in again.lines]
    assert first.lines[3].fingerprint != first.lines[4].fingerprint


def test_mt940_refuses_what_is_no_statement():
    with pytest.raises(StatementFormatError, match="not an MT940 statement"):
        read_mt940(b"Hello, this is no statement")
    garbled = MT940.read_bytes().replace(b":61:2612041204C1190,00NTRFNONREF", b":61:garbage")
    with pytest.raises(StatementFormatError, match=":61: 'garbage' does not fit"):
        read_mt940(garbled)
    intermediate = only(read_mt940(MT940.read_bytes().replace(b":60F:", b":60M:").replace(b":62F:", b":62M:")))
    assert (intermediate.opening_balance, intermediate.closing_balance) == (Decimal("12500.00"), Decimal("12875.55"))
    broken = MT940.read_bytes().replace(b":25:12030000/202051", b":25:NOACCOUNT")
    with pytest.raises(StatementFormatError, match="account 'NOACCOUNT'"):
        read_mt940(broken)


CAMT_HEAD = (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
             b'<BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct>')
CAMT_TAIL = b"</Stmt></BkToCstmrStmt></Document>"
ENTRY = (b'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
         b'<BookgDt><Dt>2026-12-04</Dt></BookgDt></Ntry>')


def camt(entry: bytes) -> bytes:
    return CAMT_HEAD + entry + CAMT_TAIL


@pytest.mark.parametrize(("document", "message"), [
    (camt(b"<Ntry><unclosed></Ntry>"), "not well-formed XML"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>', "not a CAMT.053 statement"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document/>', "declares a DTD"),
    (camt(ENTRY.replace(b"{amount}", b"12,50").replace(b"{side}", b"CRDT")), r"entry 1: amount '12,50'"),
    (camt(ENTRY.replace(b"{amount}", b"12.50").replace(b"{side}", b"XXX")), "CdtDbtInd 'XXX'"),
    (camt(ENTRY.replace(b"{amount}", b"12.50").replace(b"{side}", b"CRDT").replace(
        b"<BookgDt><Dt>2026-12-04</Dt></BookgDt>", b"")), "no booking date"),
    (camt(b"").replace(b"<Id><IBAN>DE02120300000000202051</IBAN></Id>", b""), "no account IBAN"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>',
     "no statement"),
])
def test_camt053_refuses_malformed_input_naming_the_problem(document, message):
    with pytest.raises(StatementFormatError, match=message):
        read_camt053(document)


def test_camt053_reads_a_minimal_valid_entry():
    statement = only(read_camt053(camt(ENTRY.replace(b"{amount}", b"12.50").replace(b"{side}", b"DBIT"))))
    assert only(statement.lines).signed_amount == Decimal("-12.50")


def test_camt053_expands_no_entities_and_refuses_oversized_files():
    billion_laughs = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                      b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                      b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&lol2;</Document>')
    with pytest.raises(StatementFormatError, match="DTD"):
        read_camt053(billion_laughs)
    with pytest.raises(StatementFormatError, match="DTD"):  # UTF-16 hides the DOCTYPE from a byte search
        read_camt053(billion_laughs.replace(b'version="1.0"?', b'version="1.0" encoding="UTF-16"?')
                     .decode().encode("utf-16"))
    with pytest.raises(StatementFormatError, match="larger than 100 bytes"):
        read_camt053(CAMT.read_bytes(), max_bytes=100)
