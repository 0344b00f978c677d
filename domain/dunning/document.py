"""The reminder and the dunning letters as PDF (de/en): the company's letter (domain.letters) with
the invoice that is open, the default interest per period and rate (§288 BGB), the fees, the total
claimed and the day to pay by. Printed from the letter's fixed figures, never recomputed."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.orm import Session

from domain.dunning.models import DunningLetter
from domain.invoicing.models import Invoice
from domain.letters.context import Formats, letter_context
from domain.letters.render import environment, render_pdf
from domain.letters.texts import document_language, words
from domain.settings import CompanySettings

_TEMPLATES = environment(Path(__file__).parent / "templates")
TEXTS = words({
    "de": {"reminder": "Zahlungserinnerung", "dunning_1": "1. Mahnung", "dunning_2": "2. Mahnung",
           "invoice": "Rechnung", "invoice_date": "Rechnungsdatum", "due_date": "Fällig am", "invoiced": "Betrag",
           "open": "Offen", "open_amount": "Offener Betrag", "letter_date": "Datum",
           "interest": "Verzugszinsen {rate} p. a. vom {first} bis {last} ({days} Tage)",
           "fees_before": "Mahngebühren aus früheren Schreiben", "fee": "Mahngebühr",
           "flat_fee": "Verzugspauschale (§ 288 Abs. 5 BGB)", "total_claim": "Zu zahlen",
           "intro_reminder": "sicher ist es Ihrer Aufmerksamkeit entgangen, dass die folgende Rechnung noch "
                             "nicht bezahlt ist:",
           "intro_dunning": "trotz unserer Zahlungserinnerung ist die folgende Rechnung noch nicht bezahlt:",
           "pay_by": "Bitte überweisen Sie {amount} bis zum {date} unter Angabe der Rechnungsnummer {number}.",
           "default": "Sie befinden sich seit dem {date} in Verzug; wir berechnen Verzugszinsen nach § 288 BGB "
                      "({points} Prozentpunkte über dem Basiszinssatz).",
           "paid_meanwhile": "Sollten Sie inzwischen bezahlt haben, betrachten Sie dieses Schreiben bitte als "
                             "gegenstandslos.",
           "last": "Geht die Zahlung nicht fristgerecht ein, übergeben wir die Forderung ohne weitere Ankündigung "
                   "einem Inkassobüro oder Rechtsanwalt."},
    "en": {"reminder": "Payment reminder", "dunning_1": "First dunning letter", "dunning_2": "Second dunning letter",
           "invoice": "Invoice", "invoice_date": "Invoice date", "due_date": "Due on", "invoiced": "Amount",
           "open": "Open", "open_amount": "Amount open", "letter_date": "Date",
           "interest": "Default interest {rate} p.a. from {first} to {last} ({days} days)",
           "fees_before": "Dunning fees of earlier letters", "fee": "Dunning fee",
           "flat_fee": "Flat-rate compensation (§ 288 (5) BGB)", "total_claim": "To pay",
           "intro_reminder": "perhaps it escaped your notice that the following invoice has not been paid yet:",
           "intro_dunning": "despite our reminder, the following invoice has not been paid yet:",
           "pay_by": "Please transfer {amount} by {date}, quoting the invoice number {number}.",
           "default": "You have been in default since {date}; we charge default interest under § 288 BGB "
                      "({points} percentage points above the base rate).",
           "paid_meanwhile": "If you have paid in the meantime, please disregard this letter.",
           "last": "Unless the payment arrives in time, we will hand the claim over to a collection agency or a "
                   "lawyer without further notice."},
})


def letter_html(session: Session, settings: CompanySettings, letter: DunningLetter, invoice: Invoice,
                consumer: bool) -> str:
    lang = document_language(letter.language)
    t, fmt = TEXTS[lang], Formats(lang, letter.currency)
    addressed = SimpleNamespace(customer_id=invoice.customer_id, billing_address_id=invoice.billing_address_id,
                                contact_id=invoice.contact_id, site_id=None, delivery_address_id=None)
    context = letter_context(session, settings, addressed, lang, None)
    context.update(site=None, delivery=None)
    name = t[letter.kind]
    interest = [{"label": t["interest"].format(rate=fmt.percent(Decimal(p["rate"])),
                                               first=fmt.day(_day(p["first_day"])),
                                               last=fmt.day(_day(p["last_day"])), days=p["days"]),
                 "amount": fmt.money(Decimal(p["amount"]))} for p in letter.interest_periods or []]
    notes = [t["pay_by"].format(amount=fmt.money(letter.total_claim), date=fmt.day(letter.pay_by),
                                number=invoice.number)]
    if letter.interest_from:
        notes.append(t["default"].format(date=fmt.day(letter.interest_from), points=5 if consumer else 9))
    notes.append(t["paid_meanwhile"])
    if letter.kind == "dunning_2":
        notes.append(t["last"])
    return _TEMPLATES.get_template("dunning_letter.html").render(
        **context, t=t, title=f"{name} {invoice.number}", heading=f"{name} – {t['invoice']} {invoice.number}",
        meta=[(t["letter_date"], fmt.day(letter.letter_date)), (t["invoice"], invoice.number)],
        intro=t["intro_reminder" if letter.kind == "reminder" else "intro_dunning"], closing=None,
        invoice_number=invoice.number, invoice_date=fmt.day(invoice.issue_date), due_date=fmt.day(invoice.due_date),
        invoiced=fmt.money(invoice.amount_due), open_amount=fmt.money(letter.open_amount), interest=interest,
        fees_before=fmt.money(letter.fees_before) if letter.fees_before else None,
        fee=fmt.money(letter.fee) if letter.fee else None,
        flat_fee=fmt.money(letter.flat_fee) if letter.flat_fee else None, total_claim=fmt.money(letter.total_claim),
        notes=notes)


def _day(text: str) -> date:
    return date.fromisoformat(text)


def render_letter_pdf(html: str) -> bytes:
    return render_pdf(html)


def pdf_filename(letter: DunningLetter, invoice: Invoice) -> str:
    prefix = {"de": {"reminder": "Zahlungserinnerung", "dunning_1": "Mahnung_1", "dunning_2": "Mahnung_2"},
              "en": {"reminder": "Payment_reminder", "dunning_1": "Dunning_letter_1", "dunning_2": "Dunning_letter_2"}}
    return f"{prefix[document_language(letter.language)][letter.kind]}_{invoice.number}.pdf"
