"""Which mail may move an offer's process by itself: only proof of possession (the signed reply
token, a reference to a Message-ID Kontor made). A subject tag, a known sender and routing by hand
are claims: the mail is attached to the offer and the salesperson reviews it. A sender that failed
the receiving server's DMARC, DKIM or SPF check is never trusted. Each row of README's mail trust
table, tried with forged From:, forged subject tags and forged In-Reply-To, on SQLite and PostgreSQL,
with the offer mailed over SMTP and the worker's flows run by Prefect."""
from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from kernel.documents import DocumentStore
from mailers.authentication import failed_checks
from mailers.intake import Mailbox, take_in
from tests.mailbox import send_smtp, wait_for_mail
from tests.offer_support import drive, open_tasks, sales_setup, sent_offer
from tests.support import ok

YES = "Vielen Dank, wir nehmen das Angebot an."


def reply(received: EmailMessage, *, sender: str, to: str, subject: str | None = None, in_reply_to: str | None = None,
          text: str = YES, headers: dict | None = None) -> EmailMessage:
    message = EmailMessage()
    for name, value in (headers or {}).items():
        message[name] = value
    message["From"], message["To"] = sender, to
    message["Subject"] = subject if subject is not None else f"AW: {received['Subject']}"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@customer.example.test>"
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(text)
    return message


def take(kontor, message: EmailMessage):
    with kontor.transaction() as session:
        stored, _ = take_in(session, kontor.runtime, kontor.settings, kontor.mail_routes,
                            DocumentStore.under(kontor.settings.data_dir), Mailbox("antwort"), None, message.as_bytes())
        return {"id": stored.id, "route": stored.route, "state": stored.state, "evidence": stored.evidence,
                "authentication": stored.authentication, "reason": stored.reason}


def offer_status(api, offer) -> str:
    return ok(api.get(f"/offers/{offer['id']}", user="olga"))["status"]


def review_task(api, offer) -> dict:
    [task] = [t for t in open_tasks(api, offer) if t["name"] == "Task_review_reply"]
    return ok(api.get(f"/tasks/{task['id']}", user="sam"))


@pytest.fixture
def offer_out(kontor, api, mail):
    """An offer mailed to its contact (no approval needed): (setup, offer, the mail as received)."""
    setup = sales_setup(api)
    offer, received = sent_offer(kontor, api, setup, mail)
    return setup, offer, received


# ---------------------------------------------------------------- proof: moves the process
def test_the_signed_reply_token_is_proof(kontor, api, offer_out):
    setup, offer, received = offer_out
    taken = take(kontor, reply(received, sender="irgendwer@elsewhere.example.test", to=received["Reply-To"]))
    assert (taken["route"], taken["evidence"]) == ("reply_token", "proof")
    drive(kontor)
    assert offer_status(api, offer) == "accepted"


def test_a_reference_to_a_message_id_kontor_made_is_proof(kontor, api, offer_out):
    setup, offer, received = offer_out
    taken = take(kontor, reply(received, sender=setup["address"], to="vertrieb@kontor.localhost",
                               subject="Re: Angebot", in_reply_to=received["Message-ID"]))
    assert (taken["route"], taken["evidence"]) == ("thread", "proof")
    drive(kontor)
    assert offer_status(api, offer) == "accepted"


def test_a_failing_dmarc_makes_even_a_token_a_claim_and_the_review_says_why(kontor, api, offer_out):
    setup, offer, received = offer_out
    results = {"Authentication-Results": "mx.kontor.example; dkim=fail (signature did not verify) header.d=acme.test;"
                                         " spf=softfail smtp.mailfrom=acme.test; dmarc=fail header.from=acme.test"}
    taken = take(kontor, reply(received, sender=setup["address"], to=received["Reply-To"], headers=results))
    assert (taken["route"], taken["evidence"]) == ("reply_token", "claim")
    assert taken["authentication"] == "dkim=fail (mx.kontor.example), dmarc=fail (mx.kontor.example)"
    drive(kontor)
    assert offer_status(api, offer) == "sent"
    context = review_task(api, offer)["context"]
    assert "dmarc=fail" in context["review_reason"] and context["reply"]["reply_text"].startswith("Vielen Dank")
    assert ok(api.get("/orders", user="sam"))["total"] == 0


def test_a_passing_authentication_result_changes_nothing(kontor, api, offer_out):
    setup, offer, received = offer_out
    results = {"Authentication-Results": "mx.kontor.example; dkim=pass header.d=acme.test; dmarc=pass"}
    taken = take(kontor, reply(received, sender=setup["address"], to=received["Reply-To"], headers=results))
    assert (taken["evidence"], taken["authentication"]) == ("proof", None)
    drive(kontor)
    assert offer_status(api, offer) == "accepted"


# ---------------------------------------------------------------- claims: a person decides
def test_a_forged_from_with_the_subject_tag_over_smtp_opens_the_review_and_accepts_nothing(kontor, api, mail, replies,
                                                                                           offer_out):
    """The probe's mail: From a contact's address, the offer's number in the subject, a clear yes."""
    from flows.mail import read_mailboxes

    setup, offer, received = offer_out
    number = ok(api.get(f"/offers/{offer['id']}", user="sam"))["number"]
    forged = reply(received, sender=setup["address"], to=replies.username, subject=f"Re: Ihr Angebot [{number}]",
                   text="Wir nehmen das Angebot an.")
    send_smtp(mail, forged)
    wait_for_mail(mail, replies.username)
    assert read_mailboxes() == [{"mailbox": "antwort", "routed": 1}]
    [stored] = ok(api.get("/inbound-mails", user="sam"))["items"]
    assert (stored["route"], stored["evidence"], stored["record_id"]) == ("subject_tag", "claim", offer["id"])
    drive(kontor)
    assert offer_status(api, offer) == "sent"
    review = review_task(api, offer)
    assert review["assignee"] == "sam" and "subject tag" in review["context"]["review_reason"]
    assert ok(api.get("/orders", user="sam"))["total"] == 0
    ok(api.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "wait"}}, user="sam"))
    assert offer_status(api, offer) == "sent"


def test_a_forged_subject_tag_from_a_stranger_waits_in_quarantine(kontor, api, offer_out):
    setup, offer, received = offer_out
    number = ok(api.get(f"/offers/{offer['id']}", user="sam"))["number"]
    taken = take(kontor, reply(received, sender="mallory@evil.example.test", to="vertrieb@kontor.localhost",
                               subject=f"Re: [{number}]"))
    assert (taken["route"], taken["state"], taken["evidence"]) == ("quarantine", "quarantined", None)
    drive(kontor)
    assert offer_status(api, offer) == "sent" and open_tasks(api, offer) == []


@pytest.mark.parametrize("forged", ["guessed", "foreign"])
def test_a_forged_in_reply_to_is_no_thread(kontor, api, offer_out, forged):
    """A Message-ID of Kontor's shape with a guessed random part, or one Kontor never made: the mail
    from the contact's address is attached to the customer as a claim, and moves nothing."""
    setup, offer, received = offer_out
    outbox_id = received["Message-ID"].split(".")[1]
    reference = {"guessed": f"<kontor.{outbox_id}.{'0' * 16}@kontor.localhost>",
                 "foreign": f"<{uuid.uuid4().hex}@kontor.localhost>"}[forged]
    taken = take(kontor, reply(received, sender=setup["address"], to="vertrieb@kontor.localhost",
                               subject="Re: Angebot", in_reply_to=reference))
    assert (taken["route"], taken["evidence"]) == ("sender", "claim")
    drive(kontor)
    assert offer_status(api, offer) == "sent" and open_tasks(api, offer) == []


def test_routing_by_hand_needs_the_right_to_edit_the_offer_and_only_opens_the_review(kontor, api, offer_out):
    """The probe's second hole: a stranger's "We accept the offer." routed by hand to the offer's mail."""
    setup, offer, received = offer_out
    taken = take(kontor, reply(received, sender="stranger@elsewhere.example.test", to="vertrieb@kontor.localhost",
                               subject="Offer", text="We accept the offer."))
    assert taken["state"] == "quarantined"
    [sent] = [m for m in ok(api.get("/outbox", user="olga"))["items"]
              if (m["record_type"], m["record_id"]) == ("offer", offer["id"])]
    assert api.patch(f"/offers/{offer['id']}", {"title": "x"}, user="rita").status_code == 403
    refused = api.post(f"/inbound-mails/{taken['id']}/route", {"outbox_id": sent["id"]}, user="rita")
    assert refused.status_code == 403, refused.text
    assert ok(api.get(f"/inbound-mails/{taken['id']}", user="sam"))["state"] == "quarantined"
    routed = ok(api.post(f"/inbound-mails/{taken['id']}/route", {"outbox_id": sent["id"]}, user="sam"))
    assert (routed["route"], routed["evidence"], routed["delivered_message"]) == ("manual", "claim", "offer_reply")
    drive(kontor)
    assert offer_status(api, offer) == "sent"
    assert "routed by hand by sam" in review_task(api, offer)["context"]["review_reason"]
    assert ok(api.get("/orders", user="sam"))["total"] == 0


# ---------------------------------------------------------------- reading Authentication-Results (RFC 8601)
@pytest.mark.parametrize("headers, expected", [
    ([], None),
    (["mx.example.com; dkim=pass header.d=a.test; spf=pass; dmarc=pass"], None),
    (["mx.example.com; spf=softfail; dmarc=none; dkim=neutral"], None),
    (["mx.example.com; none"], None),
    (["mx.example.com (our server); dmarc=fail (p=reject) header.from=a.test"], "dmarc=fail (mx.example.com)"),
    (["mx.example.com 1; dkim/1=FAIL reason=\"bad; sig\" header.d=a.test; spf=pass"], "dkim=fail (mx.example.com)"),
    (["mx.example.com; auth=fail; iprev=fail; spf=fail smtp.mailfrom=a.test"], "spf=fail (mx.example.com)"),
    (["mx.example.com; dmarc=pass (\"; dmarc=fail\")"], None),  # a fail inside a comment is no result
    (["a.example; dmarc=pass", "b.example; spf=fail"], "spf=fail (b.example)"),
])
def test_failed_sender_checks_are_read_from_authentication_results(headers, expected):
    assert failed_checks(headers) == expected


def test_the_raw_source_of_a_customers_reply_is_for_who_may_edit_that_customer(kontor, api, offer_out):
    """It carries the reply token: a salesperson of another customer could mail an answer with it."""
    setup, offer, received = offer_out
    taken = take(kontor, reply(received, sender=setup["address"], to=received["Reply-To"], text="Können Sie liefern?"))
    for user in ("rita", "olga"):  # a salesperson of other customers; ops, who change no offer
        assert api.get(f"/inbound-mails/{taken['id']}/source", user=user).status_code == 403
    for user in ("sam", "mona"):
        source = api.get(f"/inbound-mails/{taken['id']}/source", user=user)
        assert source.status_code == 200 and received["Reply-To"].split("+")[1].split("@")[0].encode() in source.content


def test_the_proof_in_a_stored_mail_is_for_who_may_edit_its_customer_only(kontor, api, offer_out):
    """The raw mail as a document, an ignored auto-reply to the token address, the outbox's Message-IDs
    and the answer link quoted in a reply's text: none of them hands the proof to staff who may not
    answer for the customer."""
    from sqlalchemy import select

    from kernel.documents import Document

    setup, offer, received = offer_out
    token = received["Reply-To"].split("+")[1].split("@")[0]
    link = next(line for line in received.get_body(("plain",)).get_content().splitlines() if "/o/" in line).strip()
    quoted = (f"Können Sie liefern?\n\nEl vie, 6 dic 2026, Kontor escribió:\n| Ihr Angebot: {link}\n"
              f"| Antwort an {received['Reply-To']}\n| Message-ID {received['Message-ID']}")
    taken = take(kontor, reply(received, sender=setup["address"], to=received["Reply-To"], text=quoted))
    shown = ok(api.get(f"/inbound-mails/{taken['id']}", user="rita"))["reply_text"]
    assert token not in shown and link.split("/o/")[1] not in shown and "[removed]" in shown
    assert received["Message-ID"].split(".")[2].split("@")[0] not in shown
    with kontor.transaction() as session:
        eml = session.scalar(select(Document.id).where(Document.owner_type == "inbound_mail",
                                                       Document.owner_id == taken["id"]))
    assert api.get(f"/documents/{eml}/content", user="rita").status_code == 403
    assert token.encode() in api.get(f"/documents/{eml}/content", user="sam").content
    automatic = reply(received, sender=setup["address"], to=received["Reply-To"], text="Ich bin nicht im Büro.",
                      headers={"Auto-Submitted": "auto-replied"})
    ignored = take(kontor, automatic)
    assert (ignored["state"], ignored["route"]) == ("ignored", "automatic")
    assert api.get(f"/inbound-mails/{ignored['id']}/source", user="rita").status_code == 403
    assert api.get(f"/inbound-mails/{ignored['id']}/source", user="mona").status_code == 200
    [sent] = [m for m in ok(api.get("/outbox", user="olga"))["items"] if m["record_id"] == offer["id"]]
    assert sent["message_id"] != received["Message-ID"] and "[removed]" in sent["message_id"]
    assert ok(api.get(f"/outbox/{sent['id']}", user="mona"))["message_id"] == received["Message-ID"]


def test_a_flood_of_forged_mail_does_not_silence_the_customers_real_answer(kontor, api, offer_out):
    """Past the loop limit, a sender's mail is set aside; one that carries proof waits in the
    quarantine instead, where a person routes it (as a claim: the review)."""
    setup, offer, received = offer_out
    kontor.settings.inbound_loop_limit, saved = 3, kontor.settings.inbound_loop_limit
    try:
        for n in range(3):
            take(kontor, reply(received, sender=setup["address"], to="vertrieb@kontor.localhost", subject=f"Spam {n}",
                               text="x"))
        real = take(kontor, reply(received, sender=setup["address"], to=received["Reply-To"]))
        stranger = take(kontor, reply(received, sender=setup["address"], to="vertrieb@kontor.localhost",
                                      subject="Spam", text="x"))
    finally:
        kontor.settings.inbound_loop_limit = saved
    assert (stranger["state"], stranger["route"]) == ("ignored", "automatic")
    assert (real["state"], real["evidence"]) == ("quarantined", None) and "mail loop" in real["reason"]
    drive(kontor)
    assert offer_status(api, offer) == "sent"
    [sent] = [m for m in ok(api.get("/outbox", user="olga"))["items"] if m["record_id"] == offer["id"]]
    ok(api.post(f"/inbound-mails/{real['id']}/route", {"outbox_id": sent["id"]}, user="sam"))
    drive(kontor)
    assert "routed by hand" in review_task(api, offer)["context"]["review_reason"]
