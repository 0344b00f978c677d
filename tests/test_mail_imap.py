"""Mail in both directions against the real servers: Kontor sends over SMTP, the customer reads it
over IMAP and answers, Kontor reads its mailbox over IMAP (Prefect flow) and the answer reaches the
waiting process. Also: a crash between commit and flag, an oversized message, an unreachable
mailbox, and the quarantine through the API; on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient
from pydantic import SecretStr
from sqlalchemy import func, select

from domain.users import add_user
from flows.mail import read_mailboxes
from flows.worker import work_once
from kernel.principal import SYSTEM
from kontor.settings import MailboxConfig
from mailers.imap_reader import TAKEN_IN, read_mailbox
from mailers.inbound_models import InboundMail
from mailers.outbox import Recipient, queue_mail
from runtime.instances import start_instance
from runtime.models import HumanTask, Message
from tests.mailbox import answer, send_smtp, wait_for_mail
from tests.support import ok


def waiting_ticket(kontor, ticket_id: int, to: str) -> tuple[int, int]:
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "test_mail_reply", {"ticket_id": ticket_id})
        row = queue_mail(session, kontor.settings, who=SYSTEM, template="notice", record=("ticket", ticket_id),
                         recipient=Recipient(to, "Anna Müller"), subject_tag=f"TIC-2026-{ticket_id:04d}",
                         context={"subject": "Ihr Ticket", "text": "Bitte bestätigen Sie.", "sender_name": "Rita",
                                  "salutation": None})
        return instance.id, row.id


def open_tasks(kontor, instance_id: int) -> list[str]:
    with kontor.transaction() as session:
        return list(session.scalars(select(HumanTask.spec_name).where(HumanTask.instance_id == instance_id,
                                                                      HumanTask.state == "open")))


def flags(mail, config: MailboxConfig) -> list[set]:
    with IMAPClient("127.0.0.1", mail.dovecot.imap_port, ssl=False, timeout=10) as client:
        client.login(config.username, mail.dovecot.password)
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch(client.search("ALL"), ["FLAGS"])
    return [set(fetched[uid][b"FLAGS"]) for uid in sorted(fetched)]


def test_round_trip_send_read_reply_and_the_answer_reaches_the_waiting_process(kontor, mail, replies):
    customer = f"anna-{uuid.uuid4().hex[:6]}@acme.example.test"
    instance_id, outbox_id = waiting_ticket(kontor, 81, customer)
    assert work_once(kontor)["mail"] == {"claimed": 1, "sent": 1}
    [received] = wait_for_mail(mail, customer)
    send_smtp(mail, answer(received, "Einverstanden, bitte so ausführen."))
    wait_for_mail(mail, replies.username)
    [summary] = read_mailboxes()
    assert summary == {"mailbox": "antwort", "routed": 1}
    assert open_tasks(kontor, instance_id) == ["Task_read_reply"]
    with kontor.transaction() as session:
        stored = session.scalar(select(InboundMail))
        assert (stored.route, stored.outbox_id, stored.reply_text) == (
            "reply_token", outbox_id, "Einverstanden, bitte so ausführen.")
    assert all({TAKEN_IN.encode(), b"\\Seen"} <= f for f in flags(mail, replies))
    assert read_mailboxes() == [{"mailbox": "antwort"}]  # nothing new


def test_a_crash_between_commit_and_flag_has_no_second_effect(kontor, mail, replies):
    customer = f"bert-{uuid.uuid4().hex[:6]}@acme.example.test"
    instance_id, _ = waiting_ticket(kontor, 82, customer)
    work_once(kontor)
    [received] = wait_for_mail(mail, customer)
    send_smtp(mail, answer(received, "Ja."))
    wait_for_mail(mail, replies.username)

    def crash(uid):
        raise RuntimeError("the worker died after the commit")

    with pytest.raises(RuntimeError):
        read_mailbox(kontor.sessions, kontor.runtime, kontor.settings, kontor.mail_routes, replies, after_commit=crash)
    assert flags(mail, replies) == [set()]  # stored, but not marked on the server
    assert open_tasks(kontor, instance_id) == ["Task_read_reply"]
    again = read_mailbox(kontor.sessions, kontor.runtime, kontor.settings, kontor.mail_routes, replies)
    assert again.as_dict() == {"mailbox": "antwort", "duplicate": 1}
    assert TAKEN_IN.encode() in flags(mail, replies)[0]
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundMail)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert open_tasks(kontor, instance_id) == ["Task_read_reply"]


def test_an_oversized_message_is_quarantined_by_its_headers(kontor, mail, replies):
    kontor.settings.inbound_max_bytes = 2_000
    big = EmailMessage()
    big["From"], big["To"], big["Subject"] = "gross@example.test", replies.username, "Riesig"
    big.set_content("x" * 5_000)
    send_smtp(mail, big)
    wait_for_mail(mail, replies.username)
    assert read_mailbox(kontor.sessions, kontor.runtime, kontor.settings, kontor.mail_routes, replies).as_dict() == {
        "mailbox": "antwort", "quarantined": 1}
    with kontor.transaction() as session:
        stored = session.scalar(select(InboundMail))
        assert stored.raw_sha256 is None and stored.size > 5_000 and "too large" in stored.reason
        assert stored.subject == "Riesig"


def test_an_unreachable_mailbox_is_reported_and_the_others_are_read(kontor, mail, replies):
    closed = MailboxConfig(name="kaputt", port=1, username="x", password=SecretStr("y"))
    kontor.settings.mailboxes = [closed, replies]
    summaries = read_mailboxes()
    assert summaries[0]["mailbox"] == "kaputt" and "error" in summaries[0]
    assert summaries[1] == {"mailbox": "antwort"}


def test_the_quarantine_through_the_api(kontor, mail, replies, api):
    stray = EmailMessage()
    stray["From"], stray["To"], stray["Subject"] = "fremd@example.test", replies.username, "Frage"
    stray["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    stray.set_content("Wer ist zuständig?")
    send_smtp(mail, stray)
    wait_for_mail(mail, replies.username)
    read_mailboxes()
    [held] = ok(api.get("/inbound-mails", params={"state": "quarantined"}, user="sam"))["items"]
    assert held["reply_text"] == "Wer ist zuständig?" and "unknown sender" in held["reason"]
    source = api.get(f"/inbound-mails/{held['id']}/source", user="sam")
    assert source.status_code == 200 and source.headers["content-type"] == "message/rfc822"
    assert stray["Message-ID"].encode() in source.content and b"Wer ist zust" in source.content
    acme = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    assert api.post(f"/inbound-mails/{held['id']}/route", {}, user="sam").status_code == 422
    routed = ok(api.post(f"/inbound-mails/{held['id']}/route", {"customer_id": acme["id"]}, user="sam"))
    assert (routed["state"], routed["route"], routed["routed_by"]) == ("routed", "manual", "sam")
    assert api.post(f"/inbound-mails/{held['id']}/route", {"customer_id": acme["id"]}, user="sam").status_code == 409
    traces = ok(api.get(f"/customers/{acme['id']}/traces", params={"kind": "mail_received"}, user="sam"))["items"]
    assert [t["ref_id"] for t in traces] == [held["id"]]
    with kontor.transaction() as session:
        add_user(session, "pia-mail", "pia-mail-password", ["portal"], customer_id=acme["id"])
    assert api.get("/inbound-mails", user="pia-mail").status_code == 403
    assert api.get(f"/inbound-mails/{held['id']}", user="pia-mail").status_code == 403
    assert api.get(f"/inbound-mails/{held['id']}/source", user="pia-mail").status_code == 403


def test_a_message_that_cannot_be_taken_in_is_kept_and_the_rest_of_its_chunk_goes_on(kontor, mail, replies,
                                                                                      monkeypatch):
    import mailers.imap_reader as reader

    real_take_in = reader.take_in

    def failing_for_one(session, *args, **kwargs):  # a fault injected into one message of the chunk
        if kwargs["parsed"].subject == "Kaputt":
            raise RuntimeError("injected failure")
        return real_take_in(session, *args, **kwargs)

    monkeypatch.setattr(reader, "take_in", failing_for_one)
    for subject in ("Eins", "Kaputt", "Drei"):
        message = EmailMessage()
        message["From"], message["To"] = f"{subject.lower()}@example.test", replies.username
        message["Subject"] = subject
        message["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
        message.set_content(f"{subject}.")
        send_smtp(mail, message)
    wait_for_mail(mail, replies.username, count=3)
    summary = read_mailbox(kontor.sessions, kontor.runtime, kontor.settings, kontor.mail_routes, replies)
    assert summary.as_dict() == {"mailbox": "antwort", "quarantined": 3}  # strangers, and the broken one
    with kontor.transaction() as session:
        reasons = {m.sender or "?": m.reason for m in session.scalars(select(InboundMail))}
    assert reasons["?"] == "could not be taken in: RuntimeError: injected failure"  # kept by its content hash
    assert "unknown sender" in reasons["eins@example.test"] and "unknown sender" in reasons["drei@example.test"]
    assert all(TAKEN_IN.encode() in f for f in flags(mail, replies))
