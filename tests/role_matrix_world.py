"""The records the role matrix acts on: customer A with its portal user, customer B (owned by sam)
with its portal user and everything that hangs on it, a salesperson who does not own B, and
factories for fresh records, so that every write operation gets a record of its own. Built through
the API; what the API cannot make (an incident, a dead letter, a received mail, an order, an
offer's PDF, an expired offer) is made by the runtime's and the domain's own functions."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from kernel.principal import SYSTEM
from tests.offer_support import sales_setup
from tests.support import ensure_user, ok, start_demo

SECRET = "Geheim"  # in the name of customer B and of its records: a portal user of A never sees it
B_NAME = f"Beta {SECRET} AG"
PORTAL_A, PORTAL_B, STRANGER = "pia-portal-a", "pete-portal-b", "otto-sales"
ADMIN, ME = "ada", "maja-me"  # ME changes her own password: no other entry uses her
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CAMT = (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        b'<Stmt><Id>S-1</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct><Ntry><Amt Ccy="EUR">12.50</Amt>'
        b'<CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-12-04</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt></Document>')


@dataclass
class World:
    kontor: object
    api: object
    ids: dict = field(default_factory=dict)
    _serial: int = 0

    def __getitem__(self, key: str) -> int:
        return self.ids[key]

    def unique(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self._serial}"

    # ------------------------------------------------------------------ records made through the API
    def offer(self, hours: str = "10") -> dict:
        """A draft offer of customer B by sam (100 hours need a team lead's approval)."""
        return ok(self.api.post("/offers", {"customer_id": self["customer_b"], "title": f"Angebot {SECRET}",
                                            "lines": [self.line(hours)]}, user="sam"), 201)

    def draft_offer(self) -> int:
        return self.offer()["id"]

    def line(self, hours: str = "10") -> dict:
        return {"product_id": self["product"], "quantity": hours}

    def approval_task(self, claimed_by: str | None = None) -> int:
        """The open team-lead approval task of a fresh offer of B, claimed by `claimed_by` if given."""
        offer = self.offer("100")
        submitted = ok(self.api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
        [task] = ok(self.api.get("/tasks", params={"instance_id": submitted["instance_id"]}, user="olga"))["items"]
        assert task["candidate_groups"] == ["team_lead"], task
        if claimed_by:
            ok(self.api.post(f"/tasks/{task['id']}/claim", user=claimed_by))
        return task["id"]

    def delivered_order(self) -> int:
        """An order of customer B from a fresh offer, its one hour delivered."""
        from domain.offers.models import Offer
        from domain.orders.commands import create_order_from_offer

        offer = self.offer("1")
        ok(self.api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
        with self.kontor.transaction() as session:
            order_id = create_order_from_offer(session, session.get(Offer, offer["id"]),
                                               datetime.now(timezone.utc).year, "link", "sam").id
        ok(self.api.post(f"/orders/{order_id}/deliveries", {"lines": [
            {"order_line_id": self.order_line(order_id), "quantity": "1"}]}, user="sam"), 201)
        return order_id

    def milestone_order(self) -> tuple[int, int]:
        """An order of customer B billed by milestones: (its id, its first milestone's id)."""
        order_id = self.delivered_order()
        [milestone] = ok(self.api.put(f"/orders/{order_id}/billing", {"billing_plan": "milestones", "milestones": [
            {"label": "bei Auftrag", "percent": "30"}]}, user="sam"))
        return order_id, milestone["id"]

    def order_line(self, order_id: int | None = None) -> int:
        """The (first) line of an order, by default of the world's order."""
        from sqlalchemy import select

        from domain.orders.models import OrderLine
        with self.kontor.transaction() as session:
            return session.scalar(select(OrderLine.id).where(OrderLine.order_id == (order_id or self["order"]))
                                  .order_by(OrderLine.position))

    def invoice_draft(self) -> int:
        """A draft invoice of customer B, drafted by accounting from a delivered order."""
        [invoice] = ok(self.api.post("/invoices", {"order_id": self.delivered_order()}, user="alma"), 201)
        return invoice["id"]

    def issued_invoice(self) -> int:
        """An invoice of customer B, issued at once (its process is not what these checks are about)."""
        from domain.invoicing.files import issue_with_files
        from kernel.principal import Principal

        invoice_id = self.invoice_draft()
        with self.kontor.transaction() as session:
            issue_with_files(session, self.kontor, Principal("alma", frozenset({"accounting"})), invoice_id)
        return invoice_id

    def credited_invoice(self) -> int:
        """An issued invoice of customer B, partly paid by a payment whose rest is B's credit."""
        invoice_id = self.issued_invoice()
        ok(self.api.post("/payments", {"customer_id": self["customer_b"], "amount": "20.00",
                                       "booking_date": "2026-12-01",
                                       "allocations": [{"invoice_id": invoice_id, "amount": "10.00"}]},
                         user="alma"), 201)
        return invoice_id

    def mandate(self) -> int:
        """An active SEPA mandate of customer B, recorded by accounting."""
        return ok(self.api.post(f"/customers/{self['customer_b']}/mandates", {
            "reference": self.unique("M-BETA"), "signed_on": "2026-01-15", "debtor_name": B_NAME,
            "iban": "DE89370400440532013000"}, user="alma"), 201)["id"]

    def dunning_case(self) -> int:
        """A running dunning case of B's invoice with its reminder and PDF (as the process writes them)."""
        from datetime import date
        from decimal import Decimal

        from domain.documents import store_generated
        from domain.dunning.models import Dunning, DunningLetter
        from kernel.documents import DocumentStore

        zero = Decimal("0.00")
        with self.kontor.transaction() as session:
            case = Dunning(invoice_id=self["invoice"], open_invoice_id=None, customer_id=self["customer_b"],
                           status="running", level=1, started_on=date.today(), created_by="kontor")
            session.add(case)
            session.flush()
            document = store_generated(session, DocumentStore.under(self.kontor.settings.data_dir),
                                       self.kontor.document_owners, "dunning", case.id, "Zahlungserinnerung.pdf",
                                       "application/pdf", PDF, "system")
            session.add(DunningLetter(dunning_id=case.id, invoice_id=self["invoice"], level=1, kind="reminder",
                                      letter_date=date.today(), pay_by=date.today(), currency="EUR",
                                      open_amount=Decimal("10.00"), interest=zero, fee=zero, flat_fee=zero,
                                      fees_before=zero, total_claim=Decimal("10.00"), document_id=document.id))
            return case.id

    def bank_statement(self) -> int:
        """A bank statement file uploaded by accounting (waiting to be booked)."""
        return ok(self.api.client.post("/api/v1/bank-statements", headers=self.api.headers("alma"), files={
            "file": ("camt.xml", CAMT, "application/xml")}), 202)["id"]

    def opportunity(self) -> int:
        return ok(self.api.post("/opportunities", {"customer_id": self["customer_b"], "title": f"Projekt {SECRET}",
                                                   "amount": "25000"}, user="sam"), 201)["id"]

    def lead(self) -> int:
        """sam's lead, a company without a person: converting it needs no right on a contact."""
        return ok(self.api.post("/leads", {"company_name": self.unique(f"Interessent {SECRET}")}, user="sam"),
                  201)["id"]

    def activity(self) -> int:
        return ok(self.api.post("/activities", {"customer_id": self["customer_b"], "kind": "call",
                                                "subject": f"Rückruf {SECRET}"}, user="sam"), 201)["id"]

    def customer(self) -> int:
        return ok(self.api.post("/customers", {"name": self.unique("Dublette Beta")}, user="sam"), 201)["id"]

    def product(self) -> int:
        return ok(self.api.post("/products", {"sku": self.unique("SKU-MATRIX"), "name_de": "Wartung",
                                              "unit": "hour", "tax_rate": "19"}, user="mona"), 201)["id"]

    def demo(self, suspended: bool = False) -> int:
        """A running demonstration instance (no customer's), suspended by ops if asked."""
        instance_id = start_demo(self.kontor, self.unique("R-matrix"))
        if suspended:
            ok(self.api.post(f"/process-instances/{instance_id}/suspend", user="olga"))
        return instance_id

    def timer(self) -> int:
        """The reviewer's reminder timer of a fresh demonstration instance that waits for review."""
        started = self.api.start_demo(user="sam", amount=5000)
        [timer, *_] = ok(self.api.get("/timers", params={"instance_id": started["id"]}, user="olga"))["items"]
        return timer["id"]

    def user(self) -> int:
        """A salesperson of this world alone (a one-time password, version 1)."""
        return ok(self.api.post("/users", {"username": self.unique(f"user-{uuid.uuid4().hex[:6]}"),
                                           "password": "first-password-1", "groups": ["sales"]}, user=ADMIN),
                  201)["id"]

    def former_user(self) -> int:
        user_id = self.user()
        ok(self.api.post(f"/users/{user_id}/deactivate", user=ADMIN))
        return user_id

    # ------------------------------------------------------------------ records only Kontor itself makes
    def expired_offer(self) -> int:
        from domain.offers.models import Offer

        offer_id = self.draft_offer()
        with self.kontor.transaction() as session:
            session.get(Offer, offer_id).status = "expired"
        return offer_id

    def incident(self) -> int:
        """An open incident: a demonstration job that failed its last attempt, recorded by the runtime."""
        from sqlalchemy import select

        from runtime.jobs import ClaimedJob, record_failure
        from runtime.models import Incident, ServiceJob

        instance_id = start_demo(self.kontor, self.unique("R-incident"))
        with self.kontor.transaction() as session:
            job = session.scalar(select(ServiceJob).where(ServiceJob.instance_id == instance_id))
            job.state, job.attempts, job.max_attempts = "running", 1, 1
            claimed = ClaimedJob(job.id, instance_id, job.operation, dict(job.params or {}), 1, job.spec_name)
        assert record_failure(self.kontor.sessions, self.kontor.runtime, claimed, "budget office down").state \
            == "incident"
        with self.kontor.transaction() as session:
            return session.scalar(select(Incident.id).where(Incident.job_id == claimed.id))

    def dead_letter(self) -> int:
        return self.outbox_mail(dead=True)

    def outbox_mail(self, dead: bool = False) -> int:
        """A mail to B's contact in the outbox; a dead letter if asked."""
        from domain.customers.recipients import recipient_of
        from mailers.outbox import queue_mail

        with self.kontor.transaction() as session:
            row = queue_mail(session, self.kontor.settings, who=SYSTEM,
                             recipient=recipient_of(session, self["contact"]), template="notice",
                             context={"text": "Hallo"})
            if dead:
                row.state, row.attempts, row.last_error = "dead", 5, "550 mailbox unavailable"
            return row.id

    def received_mail(self, sender: str | None = None) -> int:
        """A mail taken in from the replies mailbox: from a stranger it waits in the quarantine, from
        B's contact it is attached to customer B."""
        from kernel.documents import DocumentStore
        from mailers.intake import Mailbox, take_in

        message = EmailMessage()
        message["From"], message["To"] = sender or "fremder@elsewhere.example.test", "vertrieb@kontor.localhost"
        message["Subject"], message["Message-ID"] = "Anfrage", f"<{uuid.uuid4().hex}@elsewhere.example.test>"
        message.set_content("Bitte rufen Sie mich an.")
        with self.kontor.transaction() as session:
            stored, _ = take_in(session, self.kontor.runtime, self.kontor.settings, self.kontor.mail_routes,
                                DocumentStore.under(self.kontor.settings.data_dir), Mailbox("antwort"), None,
                                message.as_bytes())
            assert stored.state == ("quarantined" if sender is None else "routed"), (stored.state, stored.reason)
            return stored.id


def build_world(kontor, api) -> World:
    """Customers A and B (B owned by sam), their portal users, the salesperson who does not own B, and
    one of each kind of record the operations read."""
    from domain.documents import store_generated
    from domain.offers.models import Offer
    from domain.orders.commands import create_order_from_offer
    from kernel.documents import DocumentStore

    world = World(kontor, api)
    ensure_user(kontor, STRANGER, ["sales"])
    ensure_user(kontor, ME, ["sales"], password_too=True)
    setup = sales_setup(api, customer={"name": B_NAME}, contact={"last_name": f"{SECRET}rat"})
    customer_a = ok(api.post("/customers", {"name": "Alpha Kunde GmbH"}, user="mona"), 201)
    ids = world.ids
    ids.update(customer_a=customer_a["id"], customer_b=setup["customer"]["id"], contact=setup["contact"]["id"],
               product=setup["products"]["consulting"]["id"], price_list=setup["price_list"]["id"])
    ensure_user(kontor, PORTAL_A, ["portal"], customer_id=customer_a["id"])
    ensure_user(kontor, PORTAL_B, ["portal"], customer_id=ids["customer_b"])
    b = f"/customers/{ids['customer_b']}"
    ok(api.post(f"{b}/sites", {"name": f"Werk {SECRET}"}, user="sam"), 201)
    ok(api.post(f"{b}/notes", {"text": f"{SECRET}: zahlt spät"}, user="sam"), 201)
    ok(api.post(f"{b}/special-conditions", {"kind": "discount_percent", "value": "5"}, user="sam"), 201)
    ids.update(opportunity=world.opportunity(), lead=world.lead(), activity=world.activity())
    document = api.client.post("/api/v1/documents", headers=api.headers("sam"), files={
        "file": (f"Vertrag-{SECRET}.pdf", PDF, "application/pdf")}, data={
        "owner_type": "customer", "owner_id": str(ids["customer_b"]), "visible_to_customer": "true"})
    ids["document"] = ok(document, 201)["id"]
    ids["offer"] = world.draft_offer()
    with kontor.transaction() as session:
        offer = session.get(Offer, ids["offer"])
        offer.pdf_document_id = store_generated(session, DocumentStore.under(kontor.settings.data_dir),
                                                kontor.document_owners, "offer", offer.id, "Angebot.pdf",
                                                "application/pdf", PDF, "system").id
        ids["order"] = create_order_from_offer(session, offer, datetime.now(timezone.utc).year, "link", "sam").id
    ids["invoice"] = world.issued_invoice()
    ids["statement"] = world.bank_statement()
    with kontor.transaction() as session:  # its files, as issuing and rendering keep them
        from domain.invoicing.files import keep_file
        from domain.invoicing.issuing import EInvoiceFile
        from domain.invoicing.models import Invoice

        invoice = session.get(Invoice, ids["invoice"])
        for kind, file in (("pdf", EInvoiceFile("Rechnung.pdf", "application/pdf", PDF)),
                           ("xml", EInvoiceFile("Rechnung.xml", "application/xml", b"<Invoice/>"))):
            keep_file(session, DocumentStore.under(kontor.settings.data_dir), kontor.document_owners, invoice, kind,
                      file)
    ids["mandate"] = world.mandate()  # B's invoice collected by direct debit, the month handed to DATEV
    ids["direct_debit"] = ok(api.post("/direct-debits", {"collection_date": collection_day()}, user="alma"),
                             201)["id"]
    ids["datev_export"] = ok(api.post("/exports/datev", this_month(), user="alma"), 201)["id"]
    ids["dunning"] = world.dunning_case()
    with kontor.transaction() as session:
        from sqlalchemy import select

        from domain.dunning.models import DunningLetter

        ids["dunning_letter"] = session.scalar(select(DunningLetter.id)
                                               .where(DunningLetter.dunning_id == ids["dunning"]))
    ids["task"] = world.approval_task()
    ids["instance"] = ok(api.get(f"/tasks/{ids['task']}", user="tara"))["instance_id"]
    ids["timer"] = ok(api.get("/timers", params={"instance_id": ids["instance"]}, user="olga"))["items"][0]["id"]
    ids["quarantined"] = world.received_mail()
    contact_address = ok(api.get(f"/contacts/{ids['contact']}", user="sam"))["email"]
    ids["customer_mail"] = world.received_mail(sender=contact_address)
    ids["outbox"] = world.outbox_mail()
    ids["incident"] = world.incident()
    ids["user"] = world.user()
    return world


def collection_day(days: int = 5) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).date().isoformat()


def this_month() -> dict:
    today = datetime.now(timezone.utc).date()
    return {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}


def later(days: int = 30) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()
