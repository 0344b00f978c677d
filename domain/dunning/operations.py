"""The service tasks of the dunning process (bpmn/dunning.bpmn), run by the worker's flows.

`dunning.assess` reads what is still open (a settled invoice ends the case). `dunning.send_letter`
fixes the letter's figures (first transaction), renders its PDF (outside any transaction: it is the
slow part), then stores the PDF and queues the mail in one transaction that first reads the balance
again under the case's lock: a payment booked meanwhile settles the case and the letter is never
mailed. A retry finds the letter, its PDF and its mail (dedupe key) and does nothing twice."""
from __future__ import annotations

from domain.customers.letters import salutation
from domain.customers.models import Contact
from domain.customers.recipients import document_recipient
from domain.customers.timeline import record_trace
from domain.documents import store_generated
from domain.dunning import cases, document
from domain.dunning.interest import BaseRates
from domain.dunning.letters import LetterRule, letter_at, write_letter
from domain.dunning.models import OVER, Dunning, DunningLetter
from domain.invoicing.models import Invoice
from domain.letters.texts import document_language
from domain.settings import company_today
from kernel import formatting
from kernel.documents import DocumentStore
from kernel.principal import SYSTEM
from mailers.outbox import queue_mail
from runtime.runtime import JobContext, OperationRegistry

TEAM = {"de": "Ihre Buchhaltung", "en": "Your accounts team"}


class DunningOperations:
    def __init__(self, kontor):
        self.kontor = kontor

    @property
    def settings(self):
        return self.kontor.settings

    def _case(self, session, params: dict, job: JobContext) -> tuple[Dunning, Invoice]:
        case = cases.case_for_step(session, params["dunning_id"], job.instance_id)
        invoice = session.get(Invoice, case.invoice_id)
        job.touched("invoice", invoice.number)
        return case, invoice

    def assess(self, params: dict, job: JobContext) -> dict:
        with self.kontor.transaction() as session:
            case, _ = self._case(session, params, job)
            return cases.assess(session, case, company_today(self.settings))

    def send_letter(self, params: dict, job: JobContext) -> dict:
        rule = LetterRule.of(params)
        rates = BaseRates.of(self.settings.dunning_base_rates)
        with self.kontor.transaction() as session:
            case, invoice = self._case(session, params, job)
            letter = letter_at(session, case, rule.level)
            if letter is not None and letter.outbox_id is not None:
                return {"letter_id": letter.id, "outbox_id": letter.outbox_id}
            if case.status in OVER:
                return {"letter_id": None, "skipped": case.status}
            today = company_today(self.settings)
            if rates.stale_on(today):
                job.log.warning("the newest base rate (%s) is older than this half-year: add the current one "
                                "(KONTOR_DUNNING_BASE_RATES)", rates.table[-1][0].isoformat())
            letter = write_letter(session, case, invoice, cases.balance_of(session, case, today), rule, rates, today)
            html = document.letter_html(session, self.settings, letter, invoice, case.consumer)
            letter_id, filename = letter.id, document.pdf_filename(letter, invoice)
        content = document.render_letter_pdf(html)
        with self.kontor.transaction() as session:
            case, invoice = self._case(session, params, job)
            letter = session.get(DunningLetter, letter_id)
            if letter.outbox_id is not None:
                return {"letter_id": letter.id, "outbox_id": letter.outbox_id}
            today = company_today(self.settings)
            if case.status in OVER or cases.balance_of(session, case, today).open_amount <= 0:
                if case.status not in OVER:
                    cases.end_case(session, case, "settled", today, SYSTEM, "the invoice was settled before the "
                                                                            f"{letter.kind} went out")
                return {"letter_id": letter.id, "skipped": "settled"}
            return self._mail(session, case, invoice, letter, filename, content, job)

    def _mail(self, session, case: Dunning, invoice: Invoice, letter: DunningLetter, filename: str, content: bytes,
              job: JobContext) -> dict:
        if letter.document_id is None:
            stored = store_generated(session, DocumentStore.under(self.settings.data_dir), self.kontor.document_owners,
                                     "dunning", case.id, filename, "application/pdf", content, SYSTEM.username,
                                     visible_to_customer=False)
            letter.document_id = stored.id
        recipient = document_recipient(session, invoice.customer_id, "dunning")
        lang = "en" if recipient.language == "en" else document_language(letter.language)
        contact = session.get(Contact, recipient.contact_id) if recipient.contact_id else None
        money = lambda amount: formatting.money(amount, letter.currency, lang)  # noqa: E731
        context = {"document_name": document.TEXTS[lang][letter.kind], "number": invoice.number,
                   "issue_date": formatting.day(invoice.issue_date, lang),
                   "due_date": formatting.day(invoice.due_date, lang),
                   "open_amount": money(letter.open_amount), "total_claim": money(letter.total_claim),
                   "pay_by": formatting.day(letter.pay_by, lang), "reminder": letter.kind == "reminder",
                   "salutation": salutation(contact, lang).rstrip(","), "sender_name": TEAM[lang],
                   "company_name": self.settings.company_name}
        mail = queue_mail(session, self.settings, who=SYSTEM, recipient=recipient, template="dunning", context=context,
                          dedupe_key=f"dunning-letter:{letter.id}", record=("invoice", invoice.id),
                          subject_tag=invoice.number, attachments=[letter.document_id])
        letter.outbox_id = mail.id
        record_trace(session, invoice.customer_id, "dunning_letter_sent", SYSTEM.username,
                     f"{letter.kind.replace('_', ' ')} for {invoice.number} sent to {recipient.address}",
                     "invoice", invoice.id, params={"invoice": invoice.number, "letter": letter.kind,
                                                    "address": recipient.address, "variant": letter.kind})
        job.log.info("%s for %s queued to %s (claim %s)", letter.kind, invoice.number, recipient.address,
                     letter.total_claim)
        return {"letter_id": letter.id, "outbox_id": mail.id}


def register(operations: OperationRegistry, kontor) -> None:
    ops = DunningOperations(kontor)
    for name in ("assess", "send_letter"):
        operations.register(f"dunning.{name}", getattr(ops, name))
