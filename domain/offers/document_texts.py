"""The words of the offer's and the order confirmation's PDF, in German and English."""
from __future__ import annotations

TEXTS = {
    "de": {"offer": "Angebot", "order": "Auftragsbestätigung", "page": "Seite", "offer_number": "Angebotsnummer",
           "order_number": "Auftragsnummer", "date": "Datum", "valid_until": "Gültig bis",
           "customer_number": "Kundennummer", "your_vat_id": "Ihre USt-IdNr.", "contact_person": "Ansprechpartner",
           "phone": "Tel.", "email": "E-Mail", "delivery_to": "Lieferanschrift", "site": "Standort",
           "pos": "Pos.", "item": "Leistung", "quantity": "Menge",
           "unit_price": "Einzelpreis", "discount": "Rabatt", "tax": "USt.", "net": "Netto",
           "lines_total": "Summe der Positionen", "header_discount": "Rabatt", "net_total": "Nettobetrag",
           "vat": "Umsatzsteuer", "on": "auf", "gross_total": "Gesamtbetrag", "payment_terms": "Zahlungsbedingungen",
           "delivery_terms": "Lieferbedingungen", "validity_note": "Dieses Angebot ist gültig bis zum",
           "managing_directors": "Geschäftsführung", "vat_id": "USt-IdNr.",
           "net_days": "zahlbar innerhalb von {days} Tagen netto",
           "skonto": "{percent} Skonto bei Zahlung innerhalb von {days} Tagen",
           "order_intro": "vielen Dank für Ihren Auftrag. Wir bestätigen Ihre Annahme unseres Angebots {offer} "
                          "vom {accepted} zu den folgenden Positionen und Bedingungen.",
           "offer_ref": "Zu Angebot", "regards": "Mit freundlichen Grüßen",
           "eu_reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG).",
           "export": "Steuerfreie Ausfuhrlieferung bzw. nicht im Inland steuerbare Leistung."},
    "en": {"offer": "Offer", "order": "Order confirmation", "page": "Page", "offer_number": "Offer number",
           "order_number": "Order number", "date": "Date", "valid_until": "Valid until",
           "customer_number": "Customer number", "your_vat_id": "Your VAT ID", "contact_person": "Your contact",
           "phone": "Phone", "email": "E-mail", "delivery_to": "Delivery address", "site": "Site",
           "pos": "Item", "item": "Service", "quantity": "Quantity",
           "unit_price": "Unit price", "discount": "Discount", "tax": "VAT", "net": "Net",
           "lines_total": "Sum of items", "header_discount": "Discount", "net_total": "Net amount",
           "vat": "VAT", "on": "on", "gross_total": "Total", "payment_terms": "Payment terms",
           "delivery_terms": "Delivery terms", "validity_note": "This offer is valid until",
           "managing_directors": "Managing directors", "vat_id": "VAT ID",
           "net_days": "payable within {days} days net",
           "skonto": "{percent} early payment discount within {days} days",
           "order_intro": "thank you for your order. We confirm your acceptance of our offer {offer} of {accepted} "
                          "with the following items and terms.",
           "offer_ref": "For offer", "regards": "Kind regards",
           "eu_reverse_charge": "Reverse charge: VAT to be accounted for by the recipient (Art. 196 VAT Directive).",
           "export": "Tax-exempt export or service not taxable in Germany."},
}
