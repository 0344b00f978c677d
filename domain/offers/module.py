"""The offers module: offers priced from the customer's defaults, approved by rules under four
eyes, rendered as PDF, mailed, answered by mail or by the customer's signed link."""
from __future__ import annotations

from pathlib import Path

from domain.offers import approval, models, wiring
from domain.offers.models import OFFER_NUMBERS
from domain.offers.settings import OfferSettings
from domain.offers.trace_texts import TRACE_TEXTS
from kernel.module import Module

MODULE = Module(
    name="offers",
    settings=OfferSettings,
    package="domain.offers",
    public=("models", "content", "module"),
    models=(models,),
    number_series=(OFFER_NUMBERS,),
    wire=wiring.register,
    processes=(approval.PROCESS,),  # started by POST /offers/{id}/submit only
    messages=("offer_reply",),  # from the mail intake and the customer's link only
    routers=("api.routers.offers:router",),
    public_routers=("api.routers.offer_links:router",),  # the customer's signed answer link: no login
    # the offer, reminders, order confirmation, the salesperson's notice of an answer
    templates=(Path(__file__).parent / "mail_templates",),
    trace_kinds=("offer_created", "offer_deleted", "offer_revised", "offer_withdrawn", "offer_submitted",
                 "offer_approval_voided", "offer_approved", "offer_rejected", "offer_sent", "offer_reminder_sent",
                 "offer_accepted", "offer_declined", "offer_expired", "offer_answer_received", "order_not_confirmed"),
    trace_texts=TRACE_TEXTS,
    customer_trace_kinds=("offer_sent", "offer_reminder_sent", "offer_accepted", "offer_declined", "offer_expired"),
)
