"""The service tasks of the order-to-invoice process (bpmn/order_to_invoice.bpmn), run by the worker's
flows: issue, render, send, and remind the approvers of an approval that is due. Each is idempotent:
a retry finds what the first attempt committed (the invoice issued, its PDF stored, its mail queued
under its dedupe key) and does not do it again. Each refuses an invoice that is not the one its
process was started for."""
from __future__ import annotations

from sqlalchemy import select, update

from domain.customers.letters import salutation
from domain.customers.models import Contact
from domain.customers.recipients import document_recipient
from domain.customers.timeline import record_trace
from domain.invoicing import document
from domain.invoicing.einvoice import flavour_of
from domain.invoicing.files import file_of, issue_with_files, keep_file
from domain.invoicing.issuing import EInvoiceFile
from domain.invoicing.models import Invoice
from domain.invoicing.process import summary
from domain.settings import CompanySettings
from domain.users import User
from kernel import formatting
from kernel.documents import Document, DocumentStore
from kernel.errors import ValidationFailed
from kernel.principal import SYSTEM, Principal
from mailers.outbox import OutboxMail, Recipient, queue_mail
from runtime.runtime import JobContext, OperationRegistry

NAMES = {"de": {"invoice": "Rechnung", "down_payment": "Abschlagsrechnung", "credit_note": "Rechnungskorrektur"},
         "en": {"invoice": "invoice", "down_payment": "down-payment invoice", "credit_note": "credit note"}}
TEAM = {"de": "Ihre Buchhaltung", "en": "Your accounts team"}


class IssueRefused(Exception):
    """The invoice cannot be issued as it stands (a rule of the law or of EN 16931 broken)."""


class NotThisProcess(Exception):
    """The invoice is not (or no longer) the one this process was started for."""


def _invoice(session, invoice_id: int, job: JobContext, lock: bool = False) -> Invoice:
    invoice = session.get(Invoice, invoice_id, with_for_update=lock or None)
    if invoice is None:
        raise LookupError(f"invoice {invoice_id} does not exist")
    if invoice.instance_id != job.instance_id:
        raise NotThisProcess(f"process instance {job.instance_id} is not the process of invoice {invoice.label}")
    job.touched("invoice", invoice.label)
    return invoice


class InvoiceOperations:
    def __init__(self, kontor):
        self.kontor = kontor

    @property
    def settings(self) -> CompanySettings:
        return self.kontor.settings

    @property
    def store(self) -> DocumentStore:
        return DocumentStore.under(self.settings.data_dir)

    def issue(self, params: dict, job: JobContext) -> dict:
        """Its number, sums and parties fixed and its e-invoice validated (a broken rule fails the job,
        naming the rule: after its attempts an incident ops see)."""
        with self.kontor.transaction() as session:
            invoice = _invoice(session, params["invoice_id"], job, lock=True)
            actor = Principal(invoice.released_by or SYSTEM.username, SYSTEM.groups)
            try:
                invoice = issue_with_files(session, self.kontor, actor, invoice.id)
            except ValidationFailed as refused:  # the incident names each rule and field
                raise IssueRefused(refused.message + ": " + "; ".join(
                    f"{d['field']}: {d['message']}" for d in refused.details)) from None
            job.touched("invoice", invoice.label)
            return {"number": invoice.number, "gross_total": str(invoice.gross_total),
                    "summary": summary(session, invoice, invoice.gross_total)}

    def render_pdf(self, params: dict, job: JobContext) -> dict:
        """The invoice as PDF/A-3b; a Factur-X carries its validated XML inside."""
        with self.kontor.transaction() as session:
            invoice = _invoice(session, params["invoice_id"], job)
            existing = file_of(session, invoice.id, "pdf")
            if existing is not None:
                return {"document_id": existing}
            html = document.invoice_html(session, self.settings, invoice)
            xml_id = file_of(session, invoice.id, "xml")
            xml = self.store.load(session, xml_id)[2] if xml_id else None
            embed = flavour_of(invoice).syntax == "cii" and not flavour_of(invoice).xrechnung
            filename = document.pdf_filename(invoice)
        content = document.render_invoice_pdf(html, xml if embed else None, invoice.language, filename)
        with self.kontor.transaction() as session:
            invoice = _invoice(session, params["invoice_id"], job)
            document_id = keep_file(session, self.store, self.kontor.document_owners, invoice, "pdf",
                                    EInvoiceFile(filename, "application/pdf", content))
            job.log.info("invoice %s rendered: %s bytes", invoice.label, len(content))
            return {"document_id": document_id}

    def send(self, params: dict, job: JobContext) -> dict:
        """The mail to the customer's invoice recipient: the PDF (Factur-X) or the XRechnung XML, with
        the signed reply address, so that a reply reaches this invoice's process."""
        with self.kontor.transaction() as session:
            invoice = _invoice(session, params["invoice_id"], job)
            key = f"invoice-sent:{invoice.id}"
            queued = session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == key))
            if queued is not None:
                return {"outbox_id": queued}
            xrechnung = flavour_of(invoice).xrechnung
            attachment = file_of(session, invoice.id, "xml" if xrechnung else "pdf")
            recipient = document_recipient(session, invoice.customer_id, "invoices")
            lang = "en" if recipient.language == "en" else invoice.language
            mail = queue_mail(session, self.settings, who=SYSTEM, recipient=recipient, template="invoice",
                              context=self._context(session, invoice, recipient, lang, xrechnung), dedupe_key=key,
                              record=("invoice", invoice.id), subject_tag=invoice.number, attachments=[attachment])
            session.execute(update(Document).where(Document.owner_type == "invoice", Document.owner_id == invoice.id)
                            .values(visible_to_customer=True))  # the customer's portal users see its files now
            record_trace(session, invoice.customer_id, "invoice_sent", SYSTEM.username,
                         f"{invoice.kind.replace('_', ' ')} {invoice.number} sent to {recipient.address}",
                         "invoice", invoice.id, params={"invoice": invoice.number, "address": recipient.address})
            return {"outbox_id": mail.id}

    def remind_approvers(self, params: dict, job: JobContext) -> dict:
        """A mail to each active member of the approver group with an address: the approval is due.
        Once per member (its dedupe key), however often the job runs."""
        group = params["group"]
        with self.kontor.transaction() as session:
            invoice = _invoice(session, params["invoice_id"], job)
            users = [user for user in session.scalars(select(User).where(User.active.is_(True),
                                                                         User.email.is_not(None)))
                     if group in (user.groups or [])]
            for user in users:
                recipient = Recipient(address=user.email, name=user.full_name or user.username, language="de")
                queue_mail(session, self.settings, who=SYSTEM, recipient=recipient,
                           template="invoice_approval_reminder",
                           context={"invoice": params["summary"], "approver_name": recipient.name,
                                    "salutation": None,
                                    "sender_name": "Kontor", "company_name": self.settings.company_name},
                           dedupe_key=f"invoice-approval-reminder:{job.instance_id}:{user.username}",
                           record=("invoice_approval", invoice.id), subject_tag=invoice.label)
            if not users:
                job.log.warning("nobody in group %s has an e-mail address; invoice %s waits unreminded", group,
                                invoice.label)
            return {"reminded": sorted(user.username for user in users)}

    def _context(self, session, invoice: Invoice, recipient, lang: str, xrechnung: bool) -> dict:
        contact = session.get(Contact, recipient.contact_id) if recipient.contact_id else None
        money = lambda amount: formatting.money(amount, invoice.currency, lang)  # noqa: E731
        return {"document_name": NAMES[lang][invoice.kind], "number": invoice.number,
                "issue_date": formatting.day(invoice.issue_date, lang), "gross_total": money(invoice.amount_due),
                "due_date": formatting.day(invoice.due_date, lang), "credit_note": invoice.kind == "credit_note",
                "skonto_amount": money(invoice.skonto_amount) if invoice.skonto_amount else None,
                "skonto_until": formatting.day(invoice.skonto_until, lang) if invoice.skonto_until else None,
                "attachment_kind": "xrechnung" if xrechnung else "pdf",
                "salutation": salutation(contact, lang).rstrip(","), "sender_name": TEAM[lang],
                "company_name": self.settings.company_name}


def register(operations: OperationRegistry, kontor) -> None:
    ops = InvoiceOperations(kontor)
    for name in ("issue", "render_pdf", "send", "remind_approvers"):
        operations.register(f"invoicing.{name}", getattr(ops, name))
