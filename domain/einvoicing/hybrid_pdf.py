"""The hybrid invoice (Factur-X / ZUGFeRD 2.x): the PDF/A-3 a person reads, with the CII XML a machine
reads inside it as `factur-x.xml` and XMP metadata naming the profile (EN 16931). And the way back:
the XML out of such a PDF and the figures in it, to prove that what the customer's software reads
is what the invoice says.

The PDF comes from WeasyPrint as PDF/A-3b (`write_pdf(pdf_variant="pdf/a-3b")`); factur-x's
`generate_from_binary` attaches the XML (relationship Data) and writes the XMP. Its own checks are
off: the XML was validated before (validation.ensure_valid), and its schematron check would pass
silently without a Saxon server. The XMP stays uncompressed, readable by any tool (and by a later
PAdES signature). Only Factur-X's flavour is embedded: XRechnung is sent as XML."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from facturx import generate_from_binary, get_xml_from_pdf, parse_ubl_cii_xml
from lxml import etree

from domain.einvoicing.generate import EN16931, NAMESPACES
from domain.einvoicing.model import EInvoice

ATTACHMENT_NAME = "factur-x.xml"
_GUIDELINE = ("string(/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/"
              "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID)")


@dataclass(frozen=True)
class TaxRowFigures:
    """One BG-23 row as read back."""
    category: str  # BT-118
    rate: Decimal  # BT-119
    basis_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117


@dataclass(frozen=True)
class InvoiceFigures:
    """The figures of an e-invoice as its reader sees them: number, type, totals, tax rows."""
    number: str  # BT-1
    type_code: str  # BT-3
    currency: str  # BT-5
    line_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    prepaid: Decimal  # BT-113
    amount_due: Decimal  # BT-115
    tax_rows: tuple[TaxRowFigures, ...]  # BG-23

    @classmethod
    def of(cls, invoice: EInvoice) -> InvoiceFigures:
        """The same figures from the dataclass, for comparing."""
        totals = invoice.totals
        return cls(number=invoice.number, type_code=invoice.type_code.value, currency=invoice.currency,
                   line_total=totals.line_total, allowance_total=totals.allowance_total,
                   tax_exclusive=totals.tax_exclusive, tax_total=totals.tax_total,
                   tax_inclusive=totals.tax_inclusive, prepaid=totals.prepaid, amount_due=totals.amount_due,
                   tax_rows=tuple(TaxRowFigures(row.category.value, row.rate, row.basis_amount, row.tax_amount)
                                  for row in invoice.tax_breakdown))


def embed_invoice_xml(pdf: bytes, xml: bytes, *, language: str = "de", title: str | None = None) -> bytes:
    """The PDF/A-3b `pdf` with `xml` (Factur-X EN 16931, validated) attached as factur-x.xml; an XML
    of another specification (XRechnung, UBL) is refused: the XMP would claim a profile it is not."""
    specification = etree.fromstring(xml).xpath(_GUIDELINE, namespaces=NAMESPACES)
    if specification != EN16931:
        raise ValueError(f"only Factur-X EN 16931 XML goes into the PDF, not {specification or 'this document'!r}")
    metadata = {"author": "", "keywords": "Factur-X, ZUGFeRD, e-invoice", "title": title or "Invoice",
                "subject": title or "Invoice"}
    return bytes(generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=False,
                                      check_schematron=False, pdf_metadata=metadata,
                                      lang={"de": "de-DE", "en": "en-GB"}.get(language, language),
                                      afrelationship="data", xmp_compression=False))


def extract_invoice_xml(pdf: bytes) -> tuple[str, bytes]:
    """(attachment name, XML) of the e-invoice inside a hybrid PDF; ValueError when it holds none."""
    name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    if not xml:
        raise ValueError("the PDF carries no e-invoice XML")
    return str(name), bytes(xml)


def read_figures(xml: bytes) -> InvoiceFigures:
    """The figures of a CII or UBL e-invoice, read with factur-x's parser."""
    values = parse_ubl_cii_xml(xml, check_xsd=False, float_as="string", date_as="date")

    def money(key: str) -> Decimal:
        return Decimal(str(values.get(key) or "0"))

    rows = tuple(TaxRowFigures(category=row["BT-118"], rate=Decimal(str(row.get("BT-119") or "0")),
                               basis_amount=Decimal(str(row["BT-116"])), tax_amount=Decimal(str(row["BT-117"])))
                 for row in values.get("BG-23") or [])
    return InvoiceFigures(number=values["BT-1"], type_code=str(values["BT-3"]), currency=values["BT-5"],
                          line_total=money("BT-106"), allowance_total=money("BT-107"),
                          tax_exclusive=money("BT-109"), tax_total=money("BT-110"), tax_inclusive=money("BT-112"),
                          prepaid=money("BT-113"), amount_due=money("BT-115"), tax_rows=rows)
