"""SEPA direct debit files: IBAN, BIC and creditor identifier checked with a message naming the
problem, the file written in pain.008.001.08 and validated against its schema, and a file that does
not validate refused."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from domain.payments.sepa_debit import (
    PAIN_VERSION,
    Creditor,
    DirectDebit,
    SepaDataError,
    build_direct_debit_file,
    check_bic,
    check_creditor_id,
    check_iban,
    validate_pain008,
)

NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{PAIN_VERSION}"}
CREDITOR = Creditor("Kontor Handels GmbH", "DE02 1203 0000 0000 2020 51", "DE98ZZZ09999999999", "BYLADEM1001")


def debit(**changes) -> DirectDebit:
    values = dict(mandate_reference="KONTOR-M-0009", mandate_date=date(2026, 11, 1), debtor_name="Weiß & Söhne OHG",
                  debtor_iban="DE12500105170648489890", amount=Decimal("1190.00"), end_to_end_id="INV-2026-0014",
                  sequence_type="FRST", collection_date=date(2026, 12, 4), remittance="Rechnung INV-2026-0014")
    values.update(changes)
    return DirectDebit(**values)


def test_check_iban_normalises_and_names_the_problem():
    assert check_iban("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    with pytest.raises(SepaDataError, match="check digits do not match"):
        check_iban("DE89370400440532013001")
    with pytest.raises(SepaDataError, match="wrong length"):
        check_iban("DE8937040044053201300")
    with pytest.raises(SepaDataError, match="unknown country code"):
        check_iban("XX89370400440532013000")


def test_check_bic_and_creditor_identifier():
    assert check_bic("cobadeffxxx") == "COBADEFFXXX"
    with pytest.raises(SepaDataError, match="BIC 'COBADEFFXX'"):
        check_bic("COBADEFFXX")
    assert check_creditor_id("DE98ZZZ09999999999") == "DE98ZZZ09999999999"
    with pytest.raises(SepaDataError, match="creditor identifier 'DE99ZZZ09999999999'"):
        check_creditor_id("DE99ZZZ09999999999")


def test_the_file_carries_the_collections_and_validates():
    second = debit(mandate_reference="KONTOR-M-0007", debtor_name="Bäckerei Öztürk KG",
                   debtor_iban="DE75512108001245126199", amount=Decimal("357.00"), end_to_end_id="INV-2026-0013",
                   sequence_type="RCUR", debtor_bic="GENODEF1S04")
    xml = build_direct_debit_file(CREDITOR, [debit(), second])
    validate_pain008(xml)
    root = etree.fromstring(xml)
    assert root.tag == f"{{{NS['p']}}}Document"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "1547.00"
    transactions = root.findall(".//p:DrctDbtTxInf", namespaces=NS)
    assert [(t.findtext("p:PmtId/p:EndToEndId", namespaces=NS), t.findtext("p:InstdAmt", namespaces=NS),
             t.findtext(".//p:MndtId", namespaces=NS), t.findtext(".//p:DtOfSgntr", namespaces=NS))
            for t in transactions] == [("INV-2026-0014", "1190.00", "KONTOR-M-0009", "2026-11-01"),
                                       ("INV-2026-0013", "357.00", "KONTOR-M-0007", "2026-11-01")]
    assert sorted(root.xpath("//p:SeqTp/text()", namespaces=NS)) == ["FRST", "RCUR"]
    assert root.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == "DE98ZZZ09999999999"
    assert root.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE02120300000000202051"


def test_a_file_that_breaks_the_schema_is_refused():
    xml = build_direct_debit_file(CREDITOR, [debit()])
    validate_pain008(xml)
    without_end_to_end_id = xml.replace(b"<EndToEndId>INV-2026-0014</EndToEndId>", b"")
    with pytest.raises(SepaDataError, match="not valid pain.008.001.08.*EndToEndId"):
        validate_pain008(without_end_to_end_id)
    unknown_sequence = xml.replace(b"<SeqTp>FRST</SeqTp>", b"<SeqTp>ONCE</SeqTp>")
    with pytest.raises(SepaDataError, match="not valid pain.008.001.08.*SeqTp"):
        validate_pain008(unknown_sequence)
    bad_amount = xml.replace(b">1190.00</InstdAmt>", b">1190,00</InstdAmt>")
    with pytest.raises(SepaDataError, match="not valid pain.008.001.08"):
        validate_pain008(bad_amount)
    with pytest.raises(SepaDataError, match="not well-formed"):
        validate_pain008(xml[:-20])


@pytest.mark.parametrize(("changes", "message"), [
    ({"debtor_iban": "DE12500105170648489891"}, "IBAN 'DE12500105170648489891': check digits"),
    ({"debtor_bic": "INGD"}, "BIC 'INGD'"),
    ({"amount": Decimal("10.001")}, "not a positive amount in cents"),
    ({"amount": Decimal("0")}, "not a positive amount in cents"),
    ({"end_to_end_id": "INV_2026_0014"}, "end-to-end id 'INV_2026_0014'"),
    ({"mandate_reference": "M" * 36}, "mandate reference"),
    ({"sequence_type": "ONCE"}, "sequence type 'ONCE'"),
    ({"mandate_date": date(2027, 1, 1)}, "mandate is dated after the collection"),
    ({"currency": "CHF"}, "in EUR, not CHF"),
])
def test_collections_with_bad_data_are_refused(changes, message):
    with pytest.raises(SepaDataError, match=message):
        build_direct_debit_file(CREDITOR, [debit(**changes)])


def test_a_bad_creditor_is_refused():
    with pytest.raises(SepaDataError, match="IBAN"):
        build_direct_debit_file(Creditor("Kontor", "DE02120300000000202052", "DE98ZZZ09999999999"), [debit()])
    with pytest.raises(SepaDataError, match="at least one"):
        build_direct_debit_file(CREDITOR, [])
