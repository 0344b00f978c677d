"""The words every letter prints, in German and English: the info block, the table of lines, the
totals, the payment terms and the footer's legal details. A document adds its own words (its name,
its number's label) to these (`words`)."""
from __future__ import annotations

LETTER_TEXTS: dict[str, dict[str, str]] = {
    "de": {"page": "Seite", "date": "Datum", "customer_number": "Kundennummer", "your_vat_id": "Ihre USt-IdNr.",
           "contact_person": "Ansprechpartner", "phone": "Tel.", "email": "E-Mail", "delivery_to": "Lieferanschrift",
           "site": "Standort", "pos": "Pos.", "item": "Leistung", "period": "Leistungszeitraum",
           "quantity": "Menge", "unit_price": "Einzelpreis", "discount": "Rabatt", "tax": "USt.", "net": "Netto",
           "lines_total": "Summe der Positionen", "header_discount": "Rabatt", "net_total": "Nettobetrag",
           "vat": "Umsatzsteuer", "on": "auf", "gross_total": "Gesamtbetrag", "payment_terms": "Zahlungsbedingungen",
           "delivery_terms": "Lieferbedingungen", "managing_directors": "Geschäftsführung", "vat_id": "USt-IdNr.",
           "net_days": "zahlbar innerhalb von {days} Tagen netto",
           "skonto": "{percent} Skonto bei Zahlung innerhalb von {days} Tagen",
           "regards": "Mit freundlichen Grüßen",
           "eu_reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG).",
           "export": "Steuerfreie Ausfuhrlieferung bzw. nicht im Inland steuerbare Leistung."},
    "en": {"page": "Page", "date": "Date", "customer_number": "Customer number", "your_vat_id": "Your VAT ID",
           "contact_person": "Your contact", "phone": "Phone", "email": "E-mail", "delivery_to": "Delivery address",
           "site": "Site", "pos": "Item", "item": "Service", "period": "Service period",
           "quantity": "Quantity", "unit_price": "Unit price", "discount": "Discount", "tax": "VAT", "net": "Net",
           "lines_total": "Sum of items", "header_discount": "Discount", "net_total": "Net amount",
           "vat": "VAT", "on": "on", "gross_total": "Total", "payment_terms": "Payment terms",
           "delivery_terms": "Delivery terms", "managing_directors": "Managing directors", "vat_id": "VAT ID",
           "net_days": "payable within {days} days net",
           "skonto": "{percent} early payment discount within {days} days",
           "regards": "Kind regards",
           "eu_reverse_charge": "Reverse charge: VAT to be accounted for by the recipient (Art. 196 VAT Directive).",
           "export": "Tax-exempt export or service not taxable in Germany."},
}
LANGUAGES = tuple(LETTER_TEXTS)


def document_language(language: str | None) -> str:
    """The language a letter is written in: the recipient's if Kontor writes it, else German."""
    return language if language in LETTER_TEXTS else "de"


def words(own: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """A document's words per language: the letter's, with the document's own added (and winning)."""
    missing = set(LETTER_TEXTS) - set(own)
    if missing:
        raise ValueError(f"document words lack the languages {sorted(missing)}")
    return {lang: {**LETTER_TEXTS[lang], **own[lang]} for lang in LETTER_TEXTS}
