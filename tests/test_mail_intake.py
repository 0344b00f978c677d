"""Taking received mail in: every routing layer and every odd kind of mail, from a corpus of
real-world-shaped .eml files (tests/mail_corpus), on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import string
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.customers.models import Contact
from domain.customers.recipients import recipient_of
from domain.customers.timeline import Trace
from domain.sales.models import Lead
from kernel.documents import Document, DocumentStore
from kernel.principal import SYSTEM
from mailers.inbound_models import InboundMail
from mailers.intake import Mailbox, take_in
from mailers.outbox import OutboxMail, Recipient, queue_mail
from runtime.instances import start_instance
from runtime.models import HumanTask, Message, ProcessInstance
from tests.support import ok

CORPUS = Path(__file__).parent / "mail_corpus"
REPLIES = Mailbox("antwort")
LEADS = Mailbox("anfragen", leads=True)


def eml(name: str, **values) -> bytes:
    """A corpus message with its ${placeholders} filled (bytes kept as they are: some are not UTF-8)."""
    values.setdefault("uniq", uuid.uuid4().hex)
    text = (CORPUS / name).read_bytes().decode("latin-1")
    return string.Template(text).safe_substitute(values).encode("latin-1")


@pytest.fixture
def sent(kontor, api):
    """A customer, its contact, a waiting process for ticket 77 and the mail sent about that ticket."""
    customer = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    email = f"anna-{uuid.uuid4().hex[:6]}@acme.example.test"
    contact = ok(api.post(f"/customers/{customer['id']}/contacts", {"last_name": "Müller", "email": email,
                                                                      "receives": ["offers"]}, user="sam"), 201)
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "test_mail_reply", {"ticket_id": 77})
        row = queue_mail(session, kontor.settings, who=SYSTEM, template="notice", record=("ticket", 77),
                         recipient=Recipient(email, "Anna Müller", customer_id=customer["id"],
                                             contact_id=contact["id"]),
                         context={"subject": "Ihre Anfrage", "text": "x", "sender_name": "R", "salutation": None},
                         subject_tag="TIC-2026-0077")
        return {"customer": customer, "contact": contact, "instance_id": instance.id, "outbox_id": row.id,
                "message_id": row.message_id, "reply_to": row.context["reply_address"], "email": email}


def take(kontor, raw: bytes, mailbox: Mailbox = REPLIES, **kwargs) -> tuple[InboundMail, bool]:
    with kontor.transaction() as session:
        return take_in(session, kontor.runtime, kontor.settings, kontor.mail_routes,
                       DocumentStore.under(kontor.settings.data_dir), mailbox, None, raw, **kwargs)


def instance_state(kontor, instance_id: int) -> tuple[str, list[str]]:
    with kontor.transaction() as session:
        status = session.get(ProcessInstance, instance_id).status
        tasks = session.scalars(select(HumanTask.spec_name).where(HumanTask.instance_id == instance_id,
                                                                  HumanTask.state == "open")).all()
        return status, list(tasks)


def variables(kontor, instance_id: int) -> dict:
    with kontor.transaction() as session:
        return dict(session.get(ProcessInstance, instance_id).variables)


def test_a_reply_to_the_signed_address_advances_the_waiting_process_with_the_new_text_only(kontor, sent):
    mail, new = take(kontor, eml("reply_gmail_de.eml", sender=sent["email"], reply_to=sent["reply_to"]))
    assert new and (mail.state, mail.route, mail.outbox_id) == ("routed", "reply_token", sent["outbox_id"])
    assert (mail.customer_id, mail.contact_id) == (sent["customer"]["id"], sent["contact"]["id"])
    assert mail.delivered_message == "ticket_reply"
    assert mail.reply_text == "Ja, wir nehmen das Angebot an. Bitte liefern Sie ab Januar.\n\nViele Grüße\nAnna Müller"
    assert instance_state(kontor, sent["instance_id"]) == ("running", ["Task_read_reply"])
    assert variables(kontor, sent["instance_id"])["reply_text"].startswith("Ja, wir nehmen")
    assert mail.sender_name == "Anna Müller"
    with kontor.transaction() as session:
        trace = session.scalar(select(Trace).where(Trace.customer_id == sent["customer"]["id"],
                                                   Trace.kind == "mail_received"))
        assert trace.ref_id == mail.id and trace.details["route"] == "reply_token"


def test_the_same_message_twice_is_stored_and_delivered_once(kontor, sent):
    raw = eml("reply_gmail_de.eml", sender=sent["email"], reply_to=sent["reply_to"])
    first, _ = take(kontor, raw)
    again, new = take(kontor, raw)
    assert not new and again.id == first.id
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundMail)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_reply_without_token_is_found_by_its_thread(kontor, sent):
    mail, _ = take(kontor, eml("reply_outlook_en_thread.eml", sender="john@other.example.test",
                               in_reply_to=sent["message_id"]))
    assert (mail.route, mail.outbox_id, mail.state) == ("thread", sent["outbox_id"], "routed")
    assert mail.reply_text == "We decline, thank you. The budget was cut."
    assert instance_state(kontor, sent["instance_id"])[1] == ["Task_read_reply"]


def test_a_subject_tag_from_a_stranger_waits_in_quarantine(kontor, sent):
    mail, _ = take(kontor, eml("subject_tag_forward.eml", sender="einkauf@other.example.test", tag="TIC-2026-0077"))
    assert (mail.state, mail.outbox_id) == ("quarantined", sent["outbox_id"])
    assert "not a contact" in mail.reason
    assert instance_state(kontor, sent["instance_id"]) == ("running", [])


def test_a_forward_with_the_subject_tag_is_routed_and_its_nested_forwards_kept(kontor, sent, api):
    colleague = f"einkauf-{uuid.uuid4().hex[:6]}@acme.example.test"
    ok(api.post(f"/customers/{sent['customer']['id']}/contacts", {"last_name": "Einkauf", "email": colleague},
                user="sam"), 201)
    mail, _ = take(kontor, eml("subject_tag_forward.eml", sender=colleague, tag="TIC-2026-0077"))
    assert (mail.route, mail.outbox_id) == ("subject_tag", sent["outbox_id"])
    assert mail.reply_text.startswith("Bitte an die richtige Stelle")
    with kontor.transaction() as session:
        kept = session.scalars(select(Document).where(Document.owner_type == "inbound_mail",
                                                      Document.owner_id == mail.id).order_by(Document.id)).all()
        assert [(d.filename, d.content_type, d.customer_id) for d in kept] == [
            (f"mail-{mail.id}.eml", "message/rfc822", sent["customer"]["id"]),  # the message as received
            ("forwarded.eml", "message/rfc822", sent["customer"]["id"])]


def test_html_only_mail_from_a_known_contact_reaches_its_customer(kontor, sent):
    mail, _ = take(kontor, eml("html_only_known_sender.eml", sender=sent["email"].upper()))
    assert (mail.route, mail.state, mail.customer_id) == ("sender", "routed", sent["customer"]["id"])
    assert mail.delivered_message is None  # no record: nothing for a process, a trace for the customer
    assert mail.reply_text == "Guten Tag,\n\nwann kommt die Rechnung über die Wartung?"
    assert instance_state(kontor, sent["instance_id"]) == ("running", [])


def test_an_unknown_sender_becomes_a_lead_in_the_leads_mailbox_and_waits_in_quarantine_elsewhere(kontor):
    inquiry = eml("new_inquiry.eml", sender="bernd@neu.example.test")
    quarantined, _ = take(kontor, inquiry)
    assert (quarantined.state, quarantined.route) == ("quarantined", "quarantine")
    assert "unknown sender" in quarantined.reason
    lead_mail, _ = take(kontor, eml("new_inquiry.eml", sender="bernd@neu.example.test"), LEADS)
    assert (lead_mail.state, lead_mail.route) == ("routed", "new_lead")
    with kontor.transaction() as session:
        lead = session.get(Lead, lead_mail.lead_id)
        assert (lead.source, lead.email, lead.last_name) == ("email", "bernd@neu.example.test", "Bernd Neu")
        assert "20 Arbeitsplätzen" in lead.message


@pytest.mark.parametrize("name", ["auto_reply_rfc3834.eml", "auto_reply_x_autoreply.eml", "precedence_bulk.eml"])
def test_auto_replies_never_advance_a_process(kontor, sent, name):
    mail, _ = take(kontor, eml(name, sender=sent["email"], reply_to=sent["reply_to"], in_reply_to=sent["message_id"]))
    assert (mail.state, mail.route, mail.automatic) == ("ignored", "automatic", "auto_reply")
    assert instance_state(kontor, sent["instance_id"]) == ("running", [])
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_bounce_without_a_report_marks_the_address_the_returned_mail_went_to(kontor, sent):
    raw = (f"From: MAILER-DAEMON@mx.example.test\nTo: {sent['reply_to']}\nSubject: Unzustellbar: Ihre Anfrage\n"
           f"Message-ID: <{uuid.uuid4().hex}@mx.example.test>\n\nDie Nachricht konnte nicht zugestellt werden.\n\n"
           f"----- Original message -----\nMessage-ID: {sent['message_id']}\nSubject: Ihre Anfrage\n").encode()
    mail, _ = take(kontor, raw)
    assert (mail.state, mail.automatic) == ("ignored", "bounce")
    with kontor.transaction() as session:
        assert session.get(Contact, sent["contact"]["id"]).email_bounced_at is not None


def test_a_bounce_marks_the_address_and_advances_nothing(kontor, sent):
    mail, _ = take(kontor, eml("bounce_dsn.eml", reply_to=sent["reply_to"], bounced=sent["email"],
                               in_reply_to=sent["message_id"]))
    assert (mail.state, mail.automatic) == ("ignored", "bounce") and "RFC 3464" in mail.reason
    with kontor.transaction() as session:
        assert session.get(Contact, sent["contact"]["id"]).email_bounced_at is not None
        assert "undeliverable" in recipient_of(session, sent["contact"]["id"]).marketing_block
    assert instance_state(kontor, sent["instance_id"]) == ("running", [])


def test_a_forged_bounce_marks_no_contact(kontor, sent):
    """Anyone can send a delivery report naming a customer's address; only one that quotes the random
    Message-ID of a mail Kontor sent to that address marks it as bouncing."""
    guessed = f"<kontor.1.{uuid.uuid4().hex[:16]}@kontor.localhost>"
    forgeries = [eml("bounce_dsn.eml", reply_to=sent["reply_to"], bounced=sent["email"], in_reply_to=guessed),
                 eml("bounce_dsn.eml", reply_to=sent["reply_to"], bounced=sent["email"], in_reply_to="<x@y>"),
                 # a real Kontor Message-ID, but the report names someone Kontor did not send it to
                 eml("bounce_dsn.eml", reply_to=sent["reply_to"], bounced="other@acme.example.test",
                     in_reply_to=sent["message_id"]),
                 (f"From: MAILER-DAEMON@mx.example.test\nTo: {sent['reply_to']}\nSubject: Unzustellbar\n"
                  f"X-Failed-Recipients: {sent['email']}\nMessage-ID: <{uuid.uuid4().hex}@mx.example.test>\n\n"
                  f"Die Nachricht an {sent['email']} konnte nicht zugestellt werden.\n").encode()]
    for raw in forgeries:
        mail, _ = take(kontor, raw)
        assert (mail.state, mail.automatic) == ("ignored", "bounce")
        assert "names no mail that Kontor sent" in mail.reason
    with kontor.transaction() as session:
        assert session.get(Contact, sent["contact"]["id"]).email_bounced_at is None


def test_broken_mime_and_unknown_charsets_are_read_as_far_as_they_go(kontor):
    mail, new = take(kontor, eml("broken_mime_unknown_charset.eml", sender="kaputt@example.test"))
    assert new and mail.state == "quarantined"
    assert "Grüße aus Köln" in mail.reply_text
    assert "Grüße" in mail.subject
    assert mail.defects  # what the parser found wrong is kept


def test_a_message_without_message_id_is_known_by_its_content(kontor):
    raw = eml("no_message_id.eml", sender="ohne@example.test")
    first, _ = take(kontor, raw)
    assert first.message_id.startswith("<sha256.") and first.message_id.endswith("@kontor.invalid>")
    again, new = take(kontor, raw)
    assert not new and again.id == first.id


def test_winmail_dat_is_kept_as_an_attachment(kontor, sent, api):
    mail, _ = take(kontor, eml("tnef_winmail.eml", sender=sent["email"], reply_to=sent["reply_to"]))
    assert mail.route == "reply_token" and mail.reply_text == "Siehe Anlage."
    with kontor.transaction() as session:
        [source, kept] = session.scalars(select(Document).where(Document.owner_id == mail.id,
                                                                Document.owner_type == "inbound_mail")
                                         .order_by(Document.id)).all()
        assert (kept.filename, kept.content_type) == ("winmail.dat", "application/ms-tnef") and kept.size > 0
        assert source.sha256 == mail.raw_sha256
    listed = ok(api.get("/documents", params={"owner_type": "inbound_mail", "owner_id": mail.id, "sort": "id"},
                        user="sam"))
    assert [d["filename"] for d in listed["items"]] == [f"mail-{mail.id}.eml", "winmail.dat"]


def test_a_sender_in_a_loop_is_capped(kontor):
    kontor.settings.inbound_loop_limit = 3
    try:
        states = [take(kontor, eml("new_inquiry.eml", sender="loop@robot.example.test"))[0] for _ in range(5)]
    finally:
        kontor.settings.inbound_loop_limit = 30
    assert [m.state for m in states] == ["quarantined"] * 3 + ["ignored"] * 2
    assert "mail loop" in states[-1].reason


def test_a_reply_two_processes_wait_for_goes_to_quarantine_not_to_a_random_one(kontor, sent):
    with kontor.transaction() as session:
        start_instance(session, kontor.runtime, SYSTEM, "test_mail_reply", {"ticket_id": 77})
    mail, _ = take(kontor, eml("reply_gmail_de.eml", sender=sent["email"], reply_to=sent["reply_to"]))
    assert mail.state == "quarantined" and "2 waiting instances" in mail.reason
    assert mail.outbox_id == sent["outbox_id"]  # the route is known; a person decides
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_an_oversized_message_is_kept_by_its_headers_in_quarantine(kontor, sent):
    headers = eml("reply_gmail_de.eml", sender=sent["email"], reply_to=sent["reply_to"]).split(b"\n\n")[0] + b"\n\n"
    mail, _ = take(kontor, headers, size=90_000_000, oversized=True)
    assert (mail.state, mail.raw_sha256, mail.size) == ("quarantined", None, 90_000_000)
    assert "too large" in mail.reason
    assert instance_state(kontor, sent["instance_id"]) == ("running", [])


def test_a_forged_token_is_no_route(kontor, sent):
    forged = f"antwort+{sent['outbox_id']}-{'a' * 24}@kontor.localhost"
    mail, _ = take(kontor, eml("new_inquiry.eml", sender="x@evil.example.test").replace(
        b"To: anfragen@kontor.localhost", f"To: {forged}".encode()))
    assert mail.route == "quarantine" and mail.outbox_id is None
    with kontor.transaction() as session:
        assert session.get(OutboxMail, sent["outbox_id"]).state == "pending"


def test_a_sender_is_looked_up_among_the_contacts_by_an_index(kontor, sent):
    """Every message that no token, thread or tag routes looks for its sender among all contacts:
    by the address in lower case, which an index of its own serves (a scan of 100,000 contacts
    per message halved the intake rate). The statement the routing itself sends is captured and
    its plan read, among enough contacts that a planner prefers the index on its own merits."""
    from sqlalchemy import event, insert

    with kontor.transaction() as session:
        session.execute(insert(Contact), [{"customer_id": sent["customer"]["id"], "last_name": f"Kontakt {n}",
                                           "email": f"kontakt{n}@many.example.test"} for n in range(3000)])
    if kontor.engine.dialect.name == "postgresql":  # (SQLite's planner takes an index on an equality as it is)
        with kontor.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE contact")
    lookups = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"lower\(contact\.email\)", statement, re.IGNORECASE) and statement.lstrip().upper().startswith(
                "SELECT"):
            lookups.append((statement, parameters))

    event.listen(kontor.engine, "before_cursor_execute", capture)
    try:
        mail, _ = take(kontor, eml("new_inquiry.eml", sender=sent["email"].upper()))
    finally:
        event.remove(kontor.engine, "before_cursor_execute", capture)
    assert (mail.route, mail.customer_id) == ("sender", sent["customer"]["id"])  # found through that lookup
    assert lookups, "the routing sent no look-up of the sender by lower(email)"
    explain = "EXPLAIN" if kontor.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    with kontor.engine.connect() as connection:
        for statement, parameters in lookups:
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"{explain} {statement}", parameters))
            assert "ix_contact_email_lower" in plan, (statement, plan)
