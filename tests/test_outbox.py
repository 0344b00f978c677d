"""The outbox against real servers: queued in the business transaction, sent by the Prefect flow over
SMTP, read back over IMAP from Dovecot; retries, dead letters, re-queueing and the "no contact" rule,
on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from domain.customers.recipients import document_recipient, recipient_of
from flows.worker import work_once
from kernel.clock import utcnow
from kernel.errors import Conflict
from kernel.principal import SYSTEM
from mailers import tokens
from mailers.dispatch import policy_of, send_due_mail
from mailers.local_servers import SmtpRelay
from mailers.outbox import OutboxMail, Recipient, claim_mail, queue_mail
from tests.mailbox import inbox, wait_for_mail
from tests.support import ok
from tests.test_flows import _flow_runs

PDF = b"%PDF-1.4\n% Angebot\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def address(name: str = "kunde") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.test"


def queue(kontor, to: str, language: str = "de", **kwargs) -> int:
    context = kwargs.pop("context", {"subject": "Ihre Anfrage", "text": "Vielen Dank für Ihre Anfrage.",
                                     "sender_name": "Rita Reich", "salutation": None})
    recipient = kwargs.pop("recipient", None) or Recipient(address=to, name="Anna Müller", language=language)
    with kontor.transaction() as session:
        row = queue_mail(session, kontor.settings, who=SYSTEM, recipient=recipient,
                         template=kwargs.pop("template", "notice"), context=context, **kwargs)
        return row.id


def mail_row(kontor, outbox_id: int) -> OutboxMail:
    with kontor.transaction() as session:
        return session.get(OutboxMail, outbox_id)


def test_a_queued_mail_goes_out_through_the_flow_and_reads_back_over_imap(kontor, mail, api):
    to = address()
    acme = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    document = ok(api.client.post("/api/v1/documents", headers=api.headers("sam"),
                                  data={"owner_type": "customer", "owner_id": str(acme["id"])},
                                  files={"file": ("Angebot.pdf", PDF, "application/pdf")}), 201)
    since = utcnow()
    outbox_id = queue(kontor, to, subject_tag="OFF-2026-0012", attachments=[document["id"]],
                      record=("offer", acme["id"]))
    assert work_once(kontor)["mail"] == {"claimed": 1, "sent": 1}
    [(run, _)] = asyncio.run(_flow_runs("send-outbox", since))  # ops find the run by the record
    assert run.name == "notice OFF-2026-0012" and {"offer:OFF-2026-0012", "template:notice"} <= set(run.tags)
    [received] = wait_for_mail(mail, to)
    row = mail_row(kontor, outbox_id)
    assert (row.state, row.attempts, row.sent_at is not None) == ("sent", 1, True)
    assert received["Message-ID"] == row.message_id
    assert received["Subject"] == "Ihre Anfrage [OFF-2026-0012]"
    assert received["To"].addresses[0].display_name == "Anna Müller"
    reply_to = received["Reply-To"].addresses[0].addr_spec
    token = tokens.token_in_address(reply_to, kontor.settings.reply_local, kontor.settings.reply_domain)
    assert tokens.verify(kontor.settings.signing_key(), token) == outbox_id
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "Vielen Dank für Ihre Anfrage." in text and "Mit freundlichen Grüßen" in text
    assert "<p>Vielen Dank für Ihre Anfrage.</p>" in html
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "Angebot.pdf" and attachment.get_content() == PDF
    assert work_once(kontor)["mail"] is None  # nothing left: no flow run


def test_english_contacts_get_the_english_text_and_html_is_escaped(kontor, mail):
    to = address()
    queue(kontor, to, language="en", context={"subject": "Your request", "salutation": "Dear Ms <b>Smith</b>",
                                             "text": "Price: <script>alert(1)</script>", "sender_name": "Rita"})
    send_due_mail(kontor.sessions, kontor.settings)
    [received] = wait_for_mail(mail, to)
    html = received.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "Dear Ms &lt;b&gt;Smith&lt;/b&gt;," in html and "Kind regards" in html
    assert "Price: <script>alert(1)</script>" in received.get_body(("plain",)).get_content()  # text stays text


def test_the_same_decision_queues_one_mail(kontor, mail):
    to = address()
    first = queue(kontor, to, dedupe_key="offer:7:sent")
    assert queue(kontor, to, dedupe_key="offer:7:sent") == first
    send_due_mail(kontor.sessions, kontor.settings)
    assert len(wait_for_mail(mail, to)) == 1
    assert queue(kontor, to, dedupe_key="offer:7:sent") == first  # also after it was sent
    assert send_due_mail(kontor.sessions, kontor.settings).claimed == 0


def test_smtp_down_then_back_loses_nothing_and_sends_each_once(kontor, mail):
    to = address()
    kontor.settings.outbox_backoff_base_seconds = 2.0  # long enough that the checks below run inside it
    kontor.settings.outbox_backoff_max_seconds = 2.0
    mail.smtp.stop()
    ids = [queue(kontor, to, context={"subject": f"Nachricht {n}", "text": "x", "sender_name": "R",
                                      "salutation": None}) for n in range(3)]
    before = utcnow()
    summary = send_due_mail(kontor.sessions, kontor.settings)
    assert summary.as_dict() == {"claimed": 3, "retry": 3}
    rows = [mail_row(kontor, outbox_id) for outbox_id in ids]
    for row in rows:
        assert row.state == "pending" and row.attempts == 1
        assert row.next_attempt_at >= before + timedelta(seconds=2.0)
        assert "not reachable" in row.last_error
    assert send_due_mail(kontor.sessions, kontor.settings).claimed == 0  # backing off, not hammering
    mail.smtp = SmtpRelay(mail.dovecot.lmtp_port, port=mail.smtp.port).start()
    time.sleep(max(0.0, (max(row.next_attempt_at for row in rows) - utcnow()).total_seconds()) + 0.05)
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 3, "sent": 3}
    received = wait_for_mail(mail, to, count=3)
    assert sorted(m["Subject"] for m in received) == ["Nachricht 0", "Nachricht 1", "Nachricht 2"]
    assert sorted(m["Message-ID"] for m in received) == sorted(mail_row(kontor, i).message_id for i in ids)


def test_after_the_last_attempt_a_dead_letter_that_ops_queue_again(kontor, mail, api):
    to = address()
    kontor.settings.outbox_max_attempts = 2
    kontor.settings.outbox_backoff_base_seconds = 0.0
    mail.smtp.stop()
    outbox_id = queue(kontor, to)
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "retry": 1}
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "dead": 1}
    dead = ok(api.get("/outbox", params={"state": "dead"}, user="olga"))
    assert [m["id"] for m in dead["items"]] == [outbox_id] and "not reachable" in dead["items"][0]["last_error"]
    assert ok(api.get(f"/outbox/{outbox_id}", user="mona"))["state"] == "dead"  # managers may look
    assert api.post(f"/outbox/{outbox_id}/requeue", user="sam").status_code == 403
    mail.smtp.start()
    requeued = ok(api.post(f"/outbox/{outbox_id}/requeue", user="olga"))
    assert (requeued["state"], requeued["attempts"], requeued["last_error"]) == ("pending", 0, None)
    assert api.post(f"/outbox/{outbox_id}/requeue", user="olga").status_code == 409  # only dead letters
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "sent": 1}
    [received] = wait_for_mail(mail, to)
    assert received["Message-ID"] == mail_row(kontor, outbox_id).message_id  # the same message, not a new one
    # a reply naming the Message-ID is proof, so ops see it without its random part; managers see it whole
    assert requeued["message_id"].endswith(".[removed]@kontor.localhost>")
    assert ok(api.get(f"/outbox/{outbox_id}", user="mona"))["message_id"] == received["Message-ID"]


def test_a_broken_template_is_a_dead_letter_at_once(kontor, mail):
    outbox_id = queue(kontor, address(), template="notice", context={"subject": "ohne Text", "salutation": None,
                                                                        "sender_name": "R"})
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "dead": 1}
    row = mail_row(kontor, outbox_id)
    assert row.attempts == 1 and "template notice.de" in row.last_error and "'text' is undefined" in row.last_error


def test_a_sender_that_dies_after_claiming_leaves_the_mail_to_the_next(kontor, mail):
    to = address()
    kontor.settings.outbox_lease_seconds = 1
    outbox_id = queue(kontor, to)
    policy = policy_of(kontor.settings)
    # a mail may take a whole SMTP timeout (connect, greeting, data): the lease must not lapse before
    assert policy.per_mail_seconds >= kontor.settings.smtp_timeout_seconds
    [dead] = claim_mail(kontor.sessions, replace(policy, per_mail_seconds=0.1), 10)  # and then the sender dies
    assert send_due_mail(kontor.sessions, kontor.settings).claimed == 0  # leased: nobody else takes it yet
    time.sleep(1.2)
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "sent": 1}
    assert dead.id == outbox_id and mail_row(kontor, outbox_id).attempts == 2
    assert len(wait_for_mail(mail, to)) == 1


def test_a_mail_whose_senders_all_died_becomes_a_dead_letter(kontor, mail):
    kontor.settings.outbox_max_attempts, kontor.settings.outbox_lease_seconds = 2, 0
    outbox_id = queue(kontor, address())
    policy = replace(policy_of(kontor.settings), per_mail_seconds=0.0)
    for _ in range(2):  # two senders, each dying after its claim; the lease (0 s) is over at once
        assert len(claim_mail(kontor.sessions, policy, 10)) == 1
        time.sleep(0.01)
    assert claim_mail(kontor.sessions, policy, 10) == []
    row = mail_row(kontor, outbox_id)
    assert (row.state, row.attempts) == ("dead", 2) and "no outcome after 2 attempts" in row.last_error


def test_a_line_break_in_a_name_or_tag_cannot_add_headers_or_stop_the_batch(kontor, mail):
    evil, fine = address("evil"), address("fine")
    queue(kontor, evil, recipient=Recipient(evil, "Anna\r\nBcc: victim@example.test"), subject_tag="OFF\nX-Evil: 1")
    queue(kontor, fine)
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 2, "sent": 2}
    [received] = wait_for_mail(mail, evil)
    assert received["Bcc"] is None and received["X-Evil"] is None
    assert received["To"].addresses[0].display_name == "Anna Bcc: victim@example.test"
    assert len(wait_for_mail(mail, fine)) == 1
    assert inbox(mail, "victim@example.test") == []


def test_a_mail_threads_under_the_ones_it_answers_and_stored_ids_cannot_add_headers(kontor, mail):
    first, second, evil = "<kontor.1.ab@kontor.test>", "<x-1@customer.example.test>", "<a@b>\r\nBcc: v@example.test"
    to, other = address("thread"), address("thread")
    queue(kontor, to, in_reply_to=second, references=[first, evil])
    queue(kontor, other, in_reply_to=evil, references=["not an id", first])  # the parent falls back to the last good
    send_due_mail(kontor.sessions, kontor.settings)
    [received] = wait_for_mail(mail, to)
    assert received["In-Reply-To"] == second and received["References"].split() == [first, second]
    assert received["Bcc"] is None
    [fallback] = wait_for_mail(mail, other)
    assert fallback["In-Reply-To"] == first and fallback["References"] == first
    plain = queue(kontor, address("plain"))
    assert "thread" not in mail_row(kontor, plain).context  # no threading: no headers


def test_smtp_login_from_settings(kontor, mail):
    relay = SmtpRelay(mail.dovecot.lmtp_port, username="kontor", password="smtp-secret-1").start()
    try:
        kontor.settings.smtp_port = relay.port
        kontor.settings.smtp_username, kontor.settings.smtp_password = "kontor", SecretStr("wrong-secret")
        to = address()
        outbox_id = queue(kontor, to)
        assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "retry": 1}
        assert "login refused" in mail_row(kontor, outbox_id).last_error
        kontor.settings.smtp_password = SecretStr("smtp-secret-1")
        with kontor.transaction() as session:
            session.get(OutboxMail, outbox_id).next_attempt_at = utcnow() - timedelta(seconds=1)
        assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "sent": 1}
        assert len(wait_for_mail(mail, to)) == 1
    finally:
        relay.stop()


def test_no_contact_and_missing_consent_stop_marketing_mail_not_transactional_mail(kontor, mail, api):
    acme = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    to = address("einkauf")
    contact = ok(api.post(f"/customers/{acme['id']}/contacts", {
        "last_name": "Müller", "first_name": "Anna", "email": to, "language": "en", "receives": ["offers"],
        "marketing_consent": "granted"}, user="sam"), 201)
    with kontor.transaction() as session:
        consenting = recipient_of(session, contact["id"])
        assert consenting.marketing_block is None and consenting.language == "en"
        assert document_recipient(session, acme["id"], "offers") == consenting
    newsletter = queue(kontor, to, recipient=consenting, purpose="marketing")
    ok(api.patch(f"/contacts/{contact['id']}", {"no_contact": True, "version": contact["version"]}, user="sam"))
    with kontor.transaction() as session:
        blocked = recipient_of(session, contact["id"])
    assert "no contact" in blocked.marketing_block
    suppressed = queue(kontor, to, recipient=blocked, purpose="marketing")
    transactional = queue(kontor, to, recipient=blocked, purpose="transactional")
    assert mail_row(kontor, suppressed).state == "suppressed"
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 2, "sent": 2}
    assert {mail_row(kontor, i).state for i in (newsletter, transactional)} == {"sent"}
    assert len(wait_for_mail(mail, to, count=2)) == 2
    assert mail_row(kontor, suppressed).state == "suppressed"
    with kontor.transaction() as session:
        assert session.scalar(select(OutboxMail.last_error).where(OutboxMail.id == suppressed)).startswith("contact")


def test_nobody_receiving_a_kind_of_document_is_a_clear_error(kontor, api):
    acme = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    ok(api.post(f"/customers/{acme['id']}/contacts", {"last_name": "Ohne", "email": address(), "receives": []},
                user="sam"), 201)
    with kontor.transaction() as session, pytest.raises(Conflict) as refused:
        document_recipient(session, acme["id"], "invoices")
    assert "receives invoices" in refused.value.details[0]["message"]


def test_inbox_of_an_unknown_address_is_empty(mail):
    assert inbox(mail, address("niemand")) == []
