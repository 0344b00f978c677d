"""An issued invoice goes out through the outbox, over real SMTP into Dovecot: a PDF/A-3 with its
Factur-X inside (every total read back from the embedded XML), or the XRechnung XML for a public
customer; with the signed reply address, so that the customer's reply reaches the invoice's process
and opens a review for accounting. The invoice prints what §14 (4) UStG asks."""
from __future__ import annotations

import io
import time
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from domain.einvoicing.hybrid_pdf import extract_invoice_xml, read_figures
from kernel import formatting
from tests.invoice_support import deliver, draft, drive, issue, order_of, sales_setup
from tests.mailbox import inbox
from tests.offer_support import customer_replies
from tests.support import ok
from tests.test_offer_document import pdf_text


def invoiced(kontor, api, customer: dict | None = None, **setup_fields) -> tuple[dict, dict]:
    setup = sales_setup(api, customer=customer, **setup_fields)
    order = order_of(kontor, api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "8"},
                                                {"product_id": setup["products"]["book"]["id"], "quantity": "2"}])
    deliver(api, order, {1: "8", 2: "2"}, service_from="2026-11-02", service_to="2026-11-13")
    [invoice] = draft(api, order_id=order["id"])
    return setup, issue(kontor, api, invoice)


def invoice_mail(mail, setup: dict, invoice: dict):
    """The mail of this invoice in the customer's mailbox (the offer's mail came before it)."""
    deadline = time.monotonic() + 10
    while True:
        found = [m for m in inbox(mail, setup["address"]) if invoice["number"] in m["Subject"]]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, [m["Subject"] for m in inbox(mail, setup["address"])]
            return found[0]
        time.sleep(0.1)


def test_the_invoice_mail_carries_a_factur_x_that_reads_back_to_the_invoice(kontor, api, mail):
    setup, invoice = invoiced(kontor, api, {"skonto_percent": "2", "skonto_days": 10})
    received = invoice_mail(mail, setup, invoice)
    assert received["Subject"] == f"Rechnung {invoice['number']} [{invoice['number']}]"
    assert "kontor" in received["Reply-To"]  # the signed reply address
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == f"Rechnung_{invoice['number']}.pdf"
    pdf = attachment.get_content()
    assert pdf == api.get(f"/invoices/{invoice['id']}/pdf", user="alma").content
    name, xml = extract_invoice_xml(pdf)
    assert name == "factur-x.xml"
    assert xml == api.get(f"/invoices/{invoice['id']}/xml", user="alma").content  # the XML validated at issue
    figures = read_figures(xml)
    assert (figures.number, figures.type_code) == (invoice["number"], "380")
    assert [figures.tax_exclusive, figures.tax_total, figures.tax_inclusive, figures.prepaid, figures.amount_due] == [
        Decimal(invoice[key]) for key in ("net_total", "tax_total", "gross_total", "prepaid_total", "amount_due")]
    assert [(row.category, row.rate, row.basis_amount, row.tax_amount) for row in figures.tax_rows] == [
        (g["category"], Decimal(g["rate"]), Decimal(g["net"]), Decimal(g["tax"])) for g in invoice["tax_groups"]]
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "EN 16931" in xmp
    assert list(reader.attachments) == ["factur-x.xml"]
    text = pdf_text(pdf)[1]
    issued_on = date.fromisoformat(invoice["issue_date"])
    for needed in (f"Rechnung {invoice['number']}", "Rechnungsnummer", formatting.day(issued_on, "de"),
                   "Kontor Demo GmbH", "Musterstraße 1", "USt-IdNr. DE123456788", "Steuernummer 27/123/45678",
                   "ACME Maschinenbau GmbH", "Industriestraße 5", "70565 Stuttgart", "Leistungszeitraum",
                   "8 Stunden", "2 Stück", "Umsatzsteuer 19 % auf 960,00 €", "Umsatzsteuer 7 % auf 79,80 €",
                   "Skonto"):
        assert needed in text, needed


def test_a_reply_to_the_invoice_opens_a_review_for_accounting(kontor, api, mail, replies):
    setup, invoice = invoiced(kontor, api)
    received = invoice_mail(mail, setup, invoice)
    assert customer_replies(mail, replies, received, "Die Rechnung bitte an buchhaltung@acme.test senden.") == [
        {"mailbox": "antwort", "routed": 1}]
    drive(kontor)
    tasks = ok(api.get("/tasks", params={"instance_id": invoice["instance_id"]}, user="alma"))["items"]
    [review] = [task for task in tasks if task["name"] == "Task_review_reply"]
    assert review["candidate_groups"] == ["accounting"] and invoice["number"] in review["title"]
    brief = ok(api.get(f"/tasks/{review['id']}", user="alma"))["context"]  # what accounting reads beside it
    assert brief["reply"]["reply_text"].startswith("Die Rechnung bitte an buchhaltung@acme.test senden.")
    assert brief["reply"]["from"] and brief["reply"]["inbound_mail_id"]
    assert (brief["invoice"]["number"], brief["invoice"]["gross_total"]) == (invoice["number"], invoice["gross_total"])
    assert [line["name"] for line in brief["invoice"]["lines"]] == [line["name"] for line in invoice["lines"]]
    ok(api.post(f"/tasks/{review['id']}/complete", {"data": {"outcome": "recipients_changed"}}, user="sam"), 404)
    ok(api.post(f"/tasks/{review['id']}/complete", {"data": {"outcome": "recipients_changed",
                                                             "note": "Kontakt Buchhaltung angelegt"}}, user="alma"))


def test_a_public_customer_receives_the_xrechnung_xml(kontor, api, mail):
    setup, invoice = invoiced(kontor, api, {"name": "Stadt Musterhausen", "einvoice_format": "xrechnung_ubl",
                                            "buyer_reference": "991-01234-44"})
    received = invoice_mail(mail, setup, invoice)
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == f"{invoice['number']}-xrechnung-ubl.xml"
    figures = read_figures(attachment.get_content())
    assert (figures.number, str(figures.tax_inclusive)) == (invoice["number"], invoice["gross_total"])
    assert b"991-01234-44" in attachment.get_content()


def test_the_portal_lists_the_customers_invoice_once_issued(kontor, api, mail):
    from tests.support import ensure_user

    setup, invoice = invoiced(kontor, api)
    ensure_user(kontor, "petra", ["portal"], setup["customer"]["id"])
    [listed] = ok(api.get("/invoices", user="petra"))["items"]
    assert listed["number"] == invoice["number"]
    assert api.get(f"/invoices/{invoice['id']}/pdf", user="petra").content[:4] == b"%PDF"
    seen = ok(api.get(f"/invoices/{invoice['id']}", user="petra"))  # who handled it inside is not the customer's
    assert [seen[key] for key in ("created_by", "issued_by", "released_by", "instance_id", "manual_prices")] == \
        [None] * 5 and {line["price_changed"] for line in seen["lines"]} == {None}
    staff = ok(api.get(f"/invoices/{invoice['id']}", user="alma"))
    assert staff["created_by"] == "alma" and staff["instance_id"] is not None


def test_accounting_routes_a_quarantined_reply_to_the_invoice_mail_and_its_review_opens(kontor, api, mail):
    import uuid
    from email.message import EmailMessage

    from sqlalchemy import select

    from kernel.documents import DocumentStore
    from mailers.intake import Mailbox, take_in
    from mailers.outbox import OutboxMail

    setup, invoice = invoiced(kontor, api)
    message = EmailMessage()  # the customer's bookkeeper writes from an address Kontor does not know
    message["From"], message["To"] = "privat@elsewhere.example.test", "antwort@kontor.localhost"
    message["Subject"], message["Message-ID"] = "Rechnung", f"<{uuid.uuid4().hex}@elsewhere.example.test>"
    message.set_content(f"Die Rechnung {invoice['number']} bitte an buchhaltung@acme.test.")
    with kontor.transaction() as session:
        stored, _ = take_in(session, kontor.runtime, kontor.settings, kontor.mail_routes,
                            DocumentStore.under(kontor.settings.data_dir), Mailbox("antwort"), None, message.as_bytes())
        assert stored.state == "quarantined", stored.reason
        received = stored.id
        sent = session.scalar(select(OutboxMail.id).where(OutboxMail.record_type == "invoice",
                                                          OutboxMail.record_id == invoice["id"]))
    ok(api.post(f"/inbound-mails/{received}/route", {"outbox_id": sent}, user="sam"), 403)  # not accounting's
    routed = ok(api.post(f"/inbound-mails/{received}/route", {"outbox_id": sent}, user="alma"))
    assert (routed["route"], routed["evidence"]) == ("manual", "claim")
    drive(kontor)
    tasks = ok(api.get("/tasks", params={"instance_id": invoice["instance_id"]}, user="alma"))["items"]
    assert [task["name"] for task in tasks] == ["Task_review_reply"]
