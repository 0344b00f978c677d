"""Validation refuses what it should: a wrong total (BR-CO-15, CII and UBL), an XRechnung without the
buyer reference (BR-DE-15), a malformed Skonto line (BR-DE-18), reverse charge without the buyer's VAT
ID, XML the schema refuses; and the refusal names each rule, its business terms and where."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from lxml import etree

from domain.einvoicing.generate import NAMESPACES, invoice_xml
from domain.einvoicing.model import Delivery, Flavour, TaxCategory
from domain.einvoicing.validation import EInvoiceRejected, ensure_valid, validate
from tests.einvoicing_support import EU_BUYER, TRANSFER, domestic_invoice, invoice, line, with_total


def refusal(xml: bytes, flavour: Flavour) -> EInvoiceRejected:
    with pytest.raises(EInvoiceRejected) as refused:
        ensure_valid(xml, flavour)
    return refused.value


@pytest.mark.parametrize("flavour", tuple(Flavour))
def test_a_wrong_total_is_refused_with_br_co_15(flavour):
    good = domestic_invoice(buyer_reference="PO-4711")
    broken = with_total(good, tax_inclusive=good.totals.tax_inclusive + D("1.00"),
                        amount_due=good.totals.amount_due + D("1.00"))
    assert validate(invoice_xml(good, flavour), flavour).valid
    refused = refusal(invoice_xml(broken, flavour), flavour)
    assert {violation.rule for violation in refused.report.fatal} == {"BR-CO-15"}
    first = refused.report.fatal[0]
    assert first.terms == ("BT-112", "BT-109", "BT-110") and first.location.startswith("/")
    assert "BR-CO-15 (BT-112, BT-109, BT-110) at /" in str(refused)


def test_the_factur_x_profile_rules_run_besides_cens():
    good = domestic_invoice()
    broken = with_total(good, tax_inclusive=good.totals.tax_inclusive + D("1.00"),
                        amount_due=good.totals.amount_due + D("1.00"))
    report = validate(invoice_xml(broken, Flavour.FACTURX_EN16931), Flavour.FACTURX_EN16931)
    assert report.rule_sets == ("XSD", "EN16931-CII-validation.xsl", "FACTUR-X_EN16931.xslt")
    # each rule set finds the wrong total, at its own place
    assert [v.location for v in report.fatal] == [
        "/rsm:CrossIndustryInvoice[1]",
        "/rsm:CrossIndustryInvoice[1]/rsm:SupplyChainTradeTransaction[1]/ram:ApplicableHeaderTradeSettlement[1]"
        "/ram:SpecifiedTradeSettlementHeaderMonetarySummation[1]"]


@pytest.mark.parametrize("flavour", (Flavour.XRECHNUNG_CII, Flavour.XRECHNUNG_UBL))
def test_xrechnung_without_buyer_reference_is_refused_with_br_de_15(flavour):
    without = domestic_invoice()
    assert without.buyer_reference is None
    refused = refusal(invoice_xml(without, flavour), flavour)
    assert [(v.rule, v.terms) for v in refused.report.fatal] == [("BR-DE-15", ("BT-10",))]
    assert "BR-DE-15 (BT-10)" in str(refused)
    # the same invoice is a valid Factur-X: the buyer reference is XRechnung's rule, not EN 16931's
    assert validate(invoice_xml(without, Flavour.FACTURX_EN16931), Flavour.FACTURX_EN16931).valid


@pytest.mark.parametrize("flavour", (Flavour.XRECHNUNG_CII, Flavour.XRECHNUNG_UBL))
def test_a_malformed_skonto_line_is_refused_with_br_de_18(flavour):
    payment = replace(TRANSFER, terms="#SKONTO#TAGE=10#PROZENT=2#\nZahlbar innerhalb von 30 Tagen.")
    refused = refusal(invoice_xml(domestic_invoice(buyer_reference="PO-4711", payment=payment), flavour), flavour)
    assert [v.rule for v in refused.report.fatal] == ["BR-DE-18"]
    assert "BT-20" in refused.report.fatal[0].terms


@pytest.mark.parametrize("flavour", (Flavour.FACTURX_EN16931, Flavour.XRECHNUNG_UBL))
def test_reverse_charge_without_the_buyers_vat_id_is_refused(flavour):
    anonymous = replace(EU_BUYER, vat_id=None)
    einvoice = invoice((line(1, "Beratung", "2", "Stunde", "100.00", rate="0", category=TaxCategory.REVERSE_CHARGE),),
                       buyer=anonymous, buyer_reference="PO-4711")
    refused = refusal(invoice_xml(einvoice, flavour), flavour)
    assert any(v.rule.startswith("BR-AE-") for v in refused.report.fatal)


def test_the_schema_refuses_xml_the_rules_never_see():
    xml = invoice_xml(domestic_invoice())
    root = etree.fromstring(xml)
    (currency,) = root.xpath("//ram:InvoiceCurrencyCode", namespaces=NAMESPACES)
    currency.getparent().remove(currency)
    report = validate(etree.tostring(root), Flavour.FACTURX_EN16931)
    assert report.rule_sets == ("XSD",)
    assert [v.rule for v in report.fatal] == ["XSD"]
    assert "InvoiceCurrencyCode" in report.fatal[0].text or "not expected" in report.fatal[0].text
    with pytest.raises(EInvoiceRejected, match="XSD at line"):
        ensure_valid(etree.tostring(root), Flavour.FACTURX_EN16931)


def test_the_ubl_schema_refuses_a_misplaced_element():
    xml = invoice_xml(domestic_invoice(buyer_reference="PO-4711"), Flavour.XRECHNUNG_UBL)
    root = etree.fromstring(xml)
    (issue_date,) = root.xpath("/*/cbc:IssueDate", namespaces=NAMESPACES)
    root.append(issue_date)  # after the lines: out of the schema's order
    assert [v.rule for v in validate(etree.tostring(root), Flavour.XRECHNUNG_UBL).fatal] == ["XSD"]


def test_an_xml_that_is_no_invoice_is_refused():
    report = validate(b"<order xmlns='urn:example'><id>1</id></order>", Flavour.FACTURX_EN16931)
    assert not report.valid and "not an e-invoice document" in report.fatal[0].text


def test_warnings_do_not_refuse():
    """An XRechnung without any delivery date gets KoSIT's information BR-DE-TMP-32, and passes."""
    einvoice = domestic_invoice(buyer_reference="PO-4711", delivery=Delivery())
    report = ensure_valid(invoice_xml(einvoice, Flavour.XRECHNUNG_CII), Flavour.XRECHNUNG_CII)
    assert report.valid and "BR-DE-TMP-32" in {v.rule for v in report.warnings}


@pytest.mark.parametrize("flavour", (Flavour.XRECHNUNG_CII, Flavour.XRECHNUNG_UBL))
def test_xrechnung_without_the_sellers_contact_is_refused(flavour):
    einvoice = domestic_invoice(buyer_reference="PO-4711")
    without = replace(einvoice, seller=replace(einvoice.seller, contact=None))
    refused = refusal(invoice_xml(without, flavour), flavour)
    assert "BR-DE-2" in {v.rule for v in refused.report.fatal}
    assert validate(invoice_xml(einvoice, flavour), flavour).valid


def test_text_that_is_no_xml_is_refused():
    report = validate(b"<CrossIndustryInvoice><unclosed></CrossIndustryInvoice>", Flavour.FACTURX_EN16931)
    assert [(v.rule, v.fatal) for v in report.violations] == [("XML", True)]
