"""The hybrid invoice: a PDF/A-3b from WeasyPrint with the Factur-X XML attached as factur-x.xml and
XMP metadata naming the profile; read back, its figures equal the invoice's, every total and every
row of the tax breakdown."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D

import pypdf
import pytest
from weasyprint import HTML

from domain.einvoicing.generate import invoice_xml
from domain.einvoicing.hybrid_pdf import (
    ATTACHMENT_NAME,
    InvoiceFigures,
    embed_invoice_xml,
    extract_invoice_xml,
    read_figures,
)
from domain.einvoicing.model import DocumentType, Flavour, PrecedingInvoice, TaxCategory
from domain.einvoicing.validation import ensure_valid
from tests.einvoicing_support import EU_BUYER, domestic_invoice, invoice, line


@pytest.fixture(scope="module")
def letter() -> bytes:
    html = "<html lang='de'><body><h1>Rechnung</h1><p>Siehe Positionen.</p></body></html>"
    return HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")


def final_invoice():
    lines = (line(1, "Projekt, Festpreis", "1", "Pauschale", "10000.00"),
             line(2, "Fachbuch", "3", "Stück", "29.90", rate="7"))
    down_payment = PrecedingInvoice("AR-2026-0003", date(2026, 10, 1))
    return invoice(lines, prepaid=D("5950.00"), preceding_invoices=(down_payment,))


def reverse_charge():
    return invoice((line(1, "Beratung", "10", "Stunde", "140.00", rate="0", category=TaxCategory.REVERSE_CHARGE),),
                   buyer=EU_BUYER)


@pytest.mark.parametrize("build", (domestic_invoice, final_invoice, reverse_charge))
def test_the_figures_read_back_from_the_pdf_are_the_invoices(letter, build):
    einvoice = build()
    xml = invoice_xml(einvoice)
    ensure_valid(xml, Flavour.FACTURX_EN16931)
    pdf = embed_invoice_xml(letter, xml, title=f"Rechnung {einvoice.number}")
    name, embedded = extract_invoice_xml(pdf)
    assert (name, embedded) == (ATTACHMENT_NAME, xml)
    figures = read_figures(embedded)
    assert figures == InvoiceFigures.of(einvoice)
    assert len(figures.tax_rows) == len(einvoice.tax_breakdown) >= 1
    if build is final_invoice:
        assert (figures.prepaid, figures.amount_due) == (D("5950.00"), figures.tax_inclusive - D("5950.00"))


def test_the_pdf_is_pdf_a_3b_with_factur_x_xml_and_its_metadata(letter):
    pdf = embed_invoice_xml(letter, invoice_xml(domestic_invoice()))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == [ATTACHMENT_NAME]
    root = reader.trailer["/Root"]
    (spec,) = [entry.get_object() for entry in root["/AF"]]
    assert (spec["/F"], spec["/AFRelationship"]) == (ATTACHMENT_NAME, "/Data")
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    for fact in ("<pdfaid:part>3</pdfaid:part>", "<pdfaid:conformance>B</pdfaid:conformance>",
                 "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
                 "<fx:DocumentType>INVOICE</fx:DocumentType>",
                 "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>"):
        assert fact in xmp, fact
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"


def test_a_pdf_without_e_invoice_is_refused(letter):
    with pytest.raises(ValueError, match="no e-invoice"):
        extract_invoice_xml(letter)


def test_figures_that_differ_are_seen():
    """The comparison can fail: a figure read from another invoice's XML differs."""
    einvoice = domestic_invoice()
    other = invoice((line(1, "Beratung", "1", "Stunde", "120.00"),))
    assert read_figures(invoice_xml(other)) != InvoiceFigures.of(einvoice)


def test_an_xrechnung_credit_note_in_ubl_reads_back_too():
    credit = invoice((line(1, "Gutschrift", "2", "Stunde", "120.00"),), type_code=DocumentType.CREDIT_NOTE,
                     number="GS-2026-0001", buyer_reference="PO-4711",
                     preceding_invoices=(PrecedingInvoice("RE-2026-0001", date(2026, 12, 4)),))
    xml = invoice_xml(credit, Flavour.XRECHNUNG_UBL)
    ensure_valid(xml, Flavour.XRECHNUNG_UBL)
    assert read_figures(xml) == InvoiceFigures.of(credit)


@pytest.mark.parametrize("flavour", (Flavour.XRECHNUNG_CII, Flavour.XRECHNUNG_UBL))
def test_only_factur_x_goes_into_the_pdf(letter, flavour):
    with pytest.raises(ValueError, match="only Factur-X EN 16931"):
        embed_invoice_xml(letter, invoice_xml(domestic_invoice(buyer_reference="PO-4711"), flavour))
