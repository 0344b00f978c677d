"""How the offer process's traces read, in German and English: (kind or kind.variant, German,
English), filled from the parameters each trace stores (domain.customers.timeline.summary_in)."""
from __future__ import annotations

TRACE_TEXTS = (
    ("offer_created", "Angebotsentwurf {draft}: {title}", "offer draft {draft}: {title}"),
    ("offer_revised", "Angebot {offer} überarbeitet: Revision {revision}",
     "offer {offer} revised: revision {revision}"),
    ("offer_withdrawn", "Angebot {offer} zurückgezogen", "offer {offer} withdrawn"),
    ("offer_submitted", "Angebot {offer} zur Freigabe eingereicht: {level}{rule}",
     "offer {offer} submitted for approval: {level}{rule}"),
    ("offer_submitted.resubmitted", "Angebot {offer} nach Überarbeitung erneut eingereicht",
     "offer {offer} resubmitted after rework"),
    ("offer_approval_voided", "Angebot {offer}: Freigaben ungültig (geändert von {by}); die Freigabe beginnt neu",
     "offer {offer}: approval voided (changed by {by}); approval restarts"),
    ("offer_approved", "Angebot {offer} auf Stufe {level} freigegeben{reason}",
     "offer {offer} approved at level {level}{reason}"),
    ("offer_rejected", "Angebot {offer} auf Stufe {level} abgelehnt{reason}",
     "offer {offer} rejected at level {level}{reason}"),
    ("offer_sent", "Angebot {offer} an {address} gesendet", "offer {offer} sent to {address}"),
    ("offer_reminder_sent", "Erinnerung an Angebot {offer} an {address} gesendet",
     "reminder for offer {offer} sent to {address}"),
    ("offer_accepted", "Angebot {offer} angenommen ({via})", "offer {offer} accepted ({via})"),
    ("offer_declined", "Angebot {offer} abgelehnt ({via}): {reason}", "offer {offer} declined ({via}): {reason}"),
    ("offer_expired", "Angebot {offer} ohne Antwort abgelaufen", "offer {offer} expired without an answer"),
    ("order_not_confirmed", "Auftrag {order}: keine Auftragsbestätigung per E-Mail ({why})",
     "order {order}: no confirmation mail, {why}"),
)
