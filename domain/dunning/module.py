"""The dunning module: reminders and dunning letters for overdue invoices (bpmn/dunning.bpmn with
the rules of bpmn/dunning_level.dmn), default interest and fees by §288 BGB, disputes ("Klärfall")
and the hand-over to collection; and the announcement that an invoice is settled, which stops its
dunning and ends its order-to-invoice process."""
from __future__ import annotations

from pathlib import Path

from domain.dunning import models, wiring
from domain.dunning.cases import PROCESS
from domain.dunning.settings import DunningSettings
from kernel.module import Module

MODULE = Module(
    name="dunning",
    package="domain.dunning",
    public=("models", "module", "cases", "interest", "letters", "settings", "queries"),
    models=(models,),
    settings=DunningSettings,
    wire=wiring.register,
    processes=(PROCESS,),  # started by the dunning run only, one per overdue invoice
    messages=("dunning_stop", "dunning_dispute"),  # from the payments and POST /dunning/{id}/dispute only
    routers=("api.routers.dunning:router",),
    templates=(Path(__file__).parent / "mail_templates",),
    trace_kinds=("dunning_started", "dunning_letter_sent", "dunning_disputed", "dunning_resumed", "dunning_settled",
                 "dunning_stopped", "dunning_handed_over"),
    trace_texts=(("dunning_started", "Mahnverfahren zu {invoice} begonnen ({days} Tage überfällig)",
                  "dunning of {invoice} started ({days} days overdue)"),
                 ("dunning_letter_sent.reminder", "Zahlungserinnerung zu {invoice} an {address} gesendet",
                  "payment reminder for {invoice} sent to {address}"),
                 ("dunning_letter_sent.dunning_1", "1. Mahnung zu {invoice} an {address} gesendet",
                  "first dunning letter for {invoice} sent to {address}"),
                 ("dunning_letter_sent.dunning_2", "2. Mahnung zu {invoice} an {address} gesendet",
                  "second dunning letter for {invoice} sent to {address}"),
                 ("dunning_disputed", "Mahnung zu {invoice} bestritten: {outcome}",
                  "dunning of {invoice} disputed: {outcome}"),
                 ("dunning_resumed", "Mahnverfahren zu {invoice} fortgesetzt: {outcome}",
                  "dunning of {invoice} resumed: {outcome}"),
                 ("dunning_settled", "Mahnverfahren zu {invoice} beendet: bezahlt oder gutgeschrieben",
                  "dunning of {invoice} ended: paid or credited"),
                 ("dunning_stopped", "Mahnverfahren zu {invoice} eingestellt: {outcome}",
                  "dunning of {invoice} stopped: {outcome}"),
                 ("dunning_handed_over", "Forderung {invoice} übergeben: {outcome}",
                  "claim {invoice} handed over: {outcome}")),
    customer_trace_kinds=("dunning_letter_sent",),
)
