"""The XML of an e-invoice: CII (UN/CEFACT Cross Industry Invoice D16B) for Factur-X/ZUGFeRD profile
EN 16931 and for XRechnung 3.0, UBL 2.1 (Invoice or CreditNote) for XRechnung 3.0.

Built by factur-x 7.8 (`generate_cii_xml`, `generate_ubl_xml`), which covers every business term
Kontor needs (parties with contacts and electronic addresses, notes, preceding invoice, delivery and
invoicing period, SEPA credit transfer and direct debit, document allowances, tax breakdown with
exemption reasons, prepaid amount, line periods); `data_dict.py` maps `EInvoice` onto its dict.
What it does not do right is completed here with lxml: it always writes BT-24 as plain EN 16931,
so XRechnung's specification identifier is written over it; it marks an empty CII delivery group
xsi:nil, which the schema refuses, so the mark is removed; and its own checks are switched off
(its schematron check passes silently without a Saxon server): validation.py checks instead."""
from __future__ import annotations

from facturx import generate_cii_xml, generate_ubl_xml
from lxml import etree

from domain.einvoicing.data_dict import data_dict
from domain.einvoicing.model import EInvoice, Flavour

EN16931 = "urn:cen.eu:en16931:2017"
XRECHNUNG_3 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
SPECIFICATION = {Flavour.FACTURX_EN16931: EN16931, Flavour.XRECHNUNG_CII: XRECHNUNG_3,
                 Flavour.XRECHNUNG_UBL: XRECHNUNG_3}

NAMESPACES = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
_CII_GUIDELINE = ("/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/"
                  "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
_UBL_CUSTOMIZATION = "/*/cbc:CustomizationID"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def invoice_xml(invoice: EInvoice, flavour: Flavour = Flavour.FACTURX_EN16931) -> bytes:
    """The e-invoice as UTF-8 XML, not yet validated (validation.ensure_valid does that)."""
    values = data_dict(invoice, flavour)
    if flavour.syntax == "cii":
        xml = generate_cii_xml(values, level="en16931", check_xsd=False, check_schematron=False)
    else:
        xml = generate_ubl_xml(values, level="en16931", check_xsd=False, check_schematron=False)
    return _with_specification(xml, flavour)


def _with_specification(xml: bytes, flavour: Flavour) -> bytes:
    root = etree.fromstring(xml)
    path = _CII_GUIDELINE if flavour.syntax == "cii" else _UBL_CUSTOMIZATION
    (identifier,) = root.xpath(path, namespaces=NAMESPACES)
    identifier.text = SPECIFICATION[flavour]
    for empty in root.xpath("//*[@xsi:nil='true']", namespaces={"xsi": _XSI}):
        del empty.attrib[f"{{{_XSI}}}nil"]  # the library marks an empty group (no delivery data) nil
    etree.cleanup_namespaces(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
