"""The offer's and the order confirmation's own words, in German and English; the words every
letter prints (table, totals, footer) come from domain.letters.texts."""
from __future__ import annotations

from domain.letters.texts import words

TEXTS = words({
    "de": {"offer": "Angebot", "order": "Auftragsbestätigung", "offer_number": "Angebotsnummer",
           "order_number": "Auftragsnummer", "valid_until": "Gültig bis",
           "validity_note": "Dieses Angebot ist gültig bis zum",
           "order_intro": "vielen Dank für Ihren Auftrag. Wir bestätigen Ihre Annahme unseres Angebots {offer} "
                          "vom {accepted} zu den folgenden Positionen und Bedingungen.",
           "offer_ref": "Zu Angebot"},
    "en": {"offer": "Offer", "order": "Order confirmation", "offer_number": "Offer number",
           "order_number": "Order number", "valid_until": "Valid until",
           "validity_note": "This offer is valid until",
           "order_intro": "thank you for your order. We confirm your acceptance of our offer {offer} of {accepted} "
                          "with the following items and terms.",
           "offer_ref": "For offer"},
})
