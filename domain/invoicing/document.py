"""The invoice, down-payment invoice and credit note as PDF: the company's letter (domain.letters)
printed from what the invoice fixed at issue — the seller and the buyer as they were then, never as
the customer or the settings are now — with §14 (4) UStG's content: the service date or period
per line, net and tax per rate or the reason for no tax, Skonto with its amount and last day, the
corrected invoice's number and date on a credit note. A Factur-X carries its validated XML inside the
PDF/A-3b (domain.einvoicing.hybrid_pdf)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.orm import Session

from domain.einvoicing.hybrid_pdf import embed_invoice_xml
from domain.invoicing.issuing import lines_of
from domain.invoicing.models import Invoice
from domain.invoicing.tax import exemption_text, needs_both_vat_ids
from domain.letters.columns import line_columns
from domain.letters.context import Formats, letter_context, totals_context
from domain.letters.render import environment, render_pdf
from domain.letters.texts import document_language, words
from domain.settings import CompanySettings

_TEMPLATES = environment(Path(__file__).parent / "templates")
TEXTS = words({
    "de": {"invoice": "Rechnung", "down_payment": "Abschlagsrechnung", "credit_note": "Rechnungskorrektur",
           "number": "Rechnungsnummer", "date": "Rechnungsdatum", "service_date": "Leistungsdatum",
           "service_period": "Leistungszeitraum", "corrects": "Korrektur zu Rechnung {number} vom {date}",
           "vat_line": "Umsatzsteuer {rate} auf {net}", "tax_free": "Steuerfrei ({category}) auf {net}",
           "prepaid": "Abzüglich geleisteter Abschläge", "amount_due": "Zahlbetrag",
           "pay_by": "Zahlbar bis {date} ohne Abzug.",
           "skonto_note": "Bei Zahlung bis {date} gewähren wir {percent} Skonto ({amount}); Zahlbetrag dann {net}.",
           "refund": "Der Betrag wird Ihnen erstattet oder mit offenen Rechnungen verrechnet.",
           "vat_ids": "USt-IdNr. des Leistenden: {seller} · USt-IdNr. des Leistungsempfängers: {buyer}",
           "tax_number": "Steuernummer", "intro": "für unsere Leistungen berechnen wir Ihnen:",
           "intro_credit": "wir korrigieren die Rechnung wie folgt:", "small": "Kleinbetragsrechnung (§ 33 UStDV)."},
    "en": {"invoice": "Invoice", "down_payment": "Down-payment invoice", "credit_note": "Credit note",
           "number": "Invoice number", "date": "Invoice date", "service_date": "Date of supply",
           "service_period": "Service period", "corrects": "Corrects invoice {number} of {date}",
           "vat_line": "VAT {rate} on {net}", "tax_free": "Tax-free ({category}) on {net}",
           "prepaid": "Less down payments received", "amount_due": "Amount due",
           "pay_by": "Payable by {date} without deduction.",
           "skonto_note": "If paid by {date} you may deduct {percent} ({amount}); then pay {net}.",
           "refund": "The amount will be refunded or set off against open invoices.",
           "vat_ids": "Supplier's VAT ID: {seller} · Recipient's VAT ID: {buyer}",
           "tax_number": "Tax number", "intro": "for our services we invoice you:",
           "intro_credit": "we correct the invoice as follows:", "small": "Small-amount invoice."},
})


def invoice_html(session: Session, settings: CompanySettings, invoice: Invoice) -> str:
    lang = document_language(invoice.language)
    t = TEXTS[lang]
    fmt = Formats(lang, invoice.currency)
    lines = lines_of(session, invoice.id)
    rows = [{"position": line.position, "name": line.name, "sku": line.sku, "description": line.description,
             "period": fmt.period(line.service_from, line.service_to) if line.service_from else "",
             "quantity": fmt.quantity(line.quantity, line.unit), "unit_price": fmt.money(line.unit_price),
             "discount": fmt.percent(line.discount_percent) if line.discount_percent else "",
             "tax_rate": fmt.percent(line.tax_rate), "net": fmt.money(line.net)} for line in lines]
    seller, buyer = invoice.seller or {}, invoice.buyer or {}
    letter = letter_context(session, settings, _addressed(invoice), lang, invoice.issued_by)
    letter.update(company=_company(letter["company"], seller), customer=SimpleNamespace(
        name=buyer.get("name"), number=buyer.get("number"), vat_id=buyer.get("vat_id")),
        billing=SimpleNamespace(**{key: buyer.get(key) for key in ("recipient", "street", "street2", "postal_code",
                                                                   "city", "country")}), site=None, delivery=None)
    lines_net = sum((line.net for line in lines), Decimal("0.00"))
    totals = totals_context(fmt, lines_net=lines_net, header_discount=lines_net - invoice.net_total,
                            header_discount_percent=invoice.header_discount_percent, net_total=invoice.net_total,
                            tax_groups=[], gross_total=invoice.gross_total)
    totals["tax_groups"] = [_tax_row(t, fmt, group) for group in invoice.tax_groups]
    name = t[invoice.kind]
    meta = [(t["number"], invoice.number), (t["date"], fmt.day(invoice.issue_date)), _service_row(t, fmt, invoice)]
    if seller.get("tax_number"):
        meta.append((t["tax_number"], seller["tax_number"]))
    return _TEMPLATES.get_template("invoice.html").render(
        **letter, t=t, title=f"{name} {invoice.number}", heading=f"{name} {invoice.number}", meta=meta,
        intro=t["intro_credit" if invoice.kind == "credit_note" else "intro"], closing=None,
        lines=rows, columns=line_columns(rows, t, period=_periods_differ(invoice, lines),
                                         discount=any(li.discount_percent for li in lines)),
        totals=totals, notes=notes(session, t, fmt, invoice, lines),
        prepaid=fmt.money(invoice.prepaid_total) if invoice.prepaid_total else None,
        amount_due=fmt.money(invoice.amount_due))


def _periods_differ(invoice: Invoice, lines: list) -> bool:
    """Whether a line was delivered on another day or in another period than the invoice names above
    its lines: only then does each line print its own (§14 (4) Nr. 6 UStG asks for the date once)."""
    whole = (invoice.service_from, invoice.service_to or invoice.service_from)
    return any((line.service_from, line.service_to or line.service_from) != whole for line in lines
               if line.service_from)


def _addressed(invoice: Invoice) -> SimpleNamespace:
    return SimpleNamespace(customer_id=invoice.customer_id, billing_address_id=invoice.billing_address_id,
                           contact_id=invoice.contact_id, site_id=None, delivery_address_id=None)


def _company(company: dict, seller: dict) -> dict:
    """The letterhead as the invoice fixed it: name, address and VAT ID of the seller at issue."""
    address = f"{seller.get('street')}, {seller.get('postal_code')} {seller.get('city')}"
    return {**company, "name": seller.get("name") or company["name"], "address": address,
            "vat_id": seller.get("vat_id")}


def _service_row(t: dict, fmt: Formats, invoice: Invoice) -> tuple[str, str]:
    if invoice.service_to and invoice.service_to != invoice.service_from:
        return t["service_period"], fmt.period(invoice.service_from, invoice.service_to)
    return t["service_date"], fmt.day(invoice.service_from)


def _tax_row(t: dict, fmt: Formats, group: dict) -> dict:
    net, rate = fmt.money(Decimal(group["net"])), Decimal(group["rate"])
    label = t["vat_line"].format(rate=fmt.percent(rate), net=net) if group["category"] in ("S", "Z") and rate \
        else t["tax_free"].format(category=group["category"], net=net)
    return {"label": label, "tax": fmt.money(Decimal(group["tax"]))}


def notes(session: Session, t: dict, fmt: Formats, invoice: Invoice, lines: list) -> list[str]:
    """What the invoice must say below its sums: the corrected invoice, the payment terms with Skonto
    (its amount and last day), why a group bears no tax, and both VAT IDs where the tax moves."""
    found = []
    if invoice.corrects_id:
        original = session.get(Invoice, invoice.corrects_id)
        found.append(t["corrects"].format(number=original.number, date=fmt.day(original.issue_date)))
        if invoice.note:
            found.append(invoice.note)
        found.append(t["refund"])
    else:
        if invoice.note:
            found.append(invoice.note)
        found.append(t["pay_by"].format(date=fmt.day(invoice.due_date)))
        if invoice.skonto_amount:
            found.append(t["skonto_note"].format(date=fmt.day(invoice.skonto_until),
                                                 percent=fmt.percent(invoice.skonto_percent),
                                                 amount=fmt.money(invoice.skonto_amount),
                                                 net=fmt.money(invoice.amount_due - invoice.skonto_amount)))
    lang = fmt.lang
    for group in invoice.tax_groups:
        text = exemption_text(group["category"], {li.goods for li in lines if li.tax_category == group["category"]},
                              lang)
        if text and text not in found:
            found.append(text)
    if any(needs_both_vat_ids(group["category"]) for group in invoice.tax_groups):
        found.append(t["vat_ids"].format(seller=(invoice.seller or {}).get("vat_id"),
                                         buyer=(invoice.buyer or {}).get("vat_id")))
    return found


def render_invoice_pdf(html: str, xml: bytes | None, lang: str, title: str) -> bytes:
    """PDF/A-3b; with `xml`, a Factur-X: the e-invoice embedded as factur-x.xml with its XMP."""
    pdf = render_pdf(html, pdf_variant="pdf/a-3b")
    return embed_invoice_xml(pdf, xml, language=lang, title=title) if xml is not None else pdf


def pdf_filename(invoice: Invoice) -> str:
    prefix = {"de": {"invoice": "Rechnung", "down_payment": "Abschlagsrechnung", "credit_note": "Rechnungskorrektur"},
              "en": {"invoice": "Invoice", "down_payment": "Down_payment_invoice", "credit_note": "Credit_note"}}
    return f"{prefix[document_language(invoice.language)][invoice.kind]}_{invoice.number}.pdf"
