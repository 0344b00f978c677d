"""The salesperson hears of the customer's answer: by link or by mail reply, a mail through the outbox
(sent over SMTP into Dovecot, read back over IMAP) with the answer, the customer's comment and the
offer's number and link, and a trace on the customer's timeline; once per answer, however often
the reading of the answer runs. A reply to that notice answers nothing. SQLite and PostgreSQL."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from domain.customers.timeline import Trace
from domain.offers.operations import OfferOperations
from mailers.outbox import OutboxMail
from runtime.models import ServiceJob
from runtime.runtime import JobContext
from tests.mailbox import inbox, wait_for_mail
from tests.offer_support import answer_token, customer_replies, drive, only_task, sales_setup, sent_offer
from tests.support import ok

pytestmark = pytest.mark.usefixtures("mail")
SAM = "sam@kontor.test"


def offer_now(api, offer) -> dict:
    return ok(api.get(f"/offers/{offer['id']}", user="olga"))


def notices(kontor, offer) -> tuple[int, int]:
    """(notice mails queued, notice traces written) for the offer."""
    with kontor.transaction() as session:
        mails = session.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.template == "offer_answer_notice", OutboxMail.record_id == offer["id"]))
        traces = session.scalar(select(func.count()).select_from(Trace).where(
            Trace.kind == "offer_answer_received", Trace.ref_id == offer["id"]))
        return mails, traces


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_an_acceptance_by_link_tells_the_salesperson_with_the_comment_once(kontor, api, mail):
    setup = sales_setup(api)
    before = len(inbox(mail, SAM))
    offer, received = sent_offer(kontor, api, setup, mail)
    done = api.client.post(f"/o/{answer_token(received)}",
                           data={"decision": "accept", "reason": "Bitte Lieferung ab KW 3"})
    assert done.status_code == 200, done.text
    drive(kontor)
    accepted = offer_now(api, offer)
    assert accepted["status"] == "accepted"
    notice = wait_for_mail(mail, SAM, before + 1)[-1]
    assert notice["Subject"] == (f"Angebot {accepted['number']} angenommen – ACME Maschinenbau GmbH "
                                 f"[{accepted['number']}]")
    body = text_of(notice)
    assert "über den Link im Angebot" in body and "Bitte Lieferung ab KW 3" in body
    assert f"{accepted['number']} · ACME Maschinenbau GmbH · 1.200,00\xa0€" in body  # Babel's de_DE
    assert f"/api/v1/offers/{offer['id']}" in body
    traces = ok(api.get(f"/customers/{setup['customer']['id']}/traces", user="sam"))["items"]
    [trace] = [t for t in traces if t["kind"] == "offer_answer_received"]
    assert "accepted, by link" in trace["summary"] and "Bitte Lieferung ab KW 3" in trace["summary"]
    assert notices(kontor, offer) == (1, 1)
    # the reading runs again (a retry after a crash before its outcome was recorded): nothing new
    with kontor.transaction() as session:
        job = session.scalar(select(ServiceJob).where(ServiceJob.instance_id == accepted["instance_id"],
                                                      ServiceJob.spec_name == "Task_read_answer"))
        params, context = job.params, JobContext(job.id, f"job-{job.id}-retry", job.instance_id, 2,
                                                 logging.getLogger("test"))
    assert OfferOperations(kontor).read_answer(params, context)["answer"] == "accept"
    assert notices(kontor, offer) == (1, 1)
    drive(kontor)
    assert len(inbox(mail, SAM)) == before + 1


def test_mail_replies_tell_the_salesperson_and_a_reply_to_the_notice_answers_nothing(kontor, api, mail, replies):
    setup = sales_setup(api)
    before = len(inbox(mail, SAM))
    offer, received = sent_offer(kontor, api, setup, mail)
    customer_replies(mail, replies, received, "Können Sie beim Preis noch etwas machen?")
    drive(kontor)
    review = only_task(api, offer, "Task_review_reply")
    notice = wait_for_mail(mail, SAM, before + 1)[-1]
    number = offer_now(api, offer)["number"]
    assert notice["Subject"] == f"Antwort zu Angebot {number}: bitte prüfen – ACME Maschinenbau GmbH [{number}]"
    assert "per E-Mail" in text_of(notice) and "Können Sie beim Preis noch etwas machen?" in text_of(notice)
    # the salesperson answers the notice: that is no answer of the customer's
    customer_replies(mail, replies, notice, "Wir nehmen das Angebot an.", count=2)
    drive(kontor)
    assert offer_now(api, offer)["status"] == "sent"
    assert only_task(api, offer, "Task_review_reply")["id"] == review["id"]
    ok(api.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "wait"}}, user="sam"))
    customer_replies(mail, replies, received, "Wir lehnen das Angebot ab. Der Preis ist zu hoch.", count=3)
    drive(kontor)
    assert offer_now(api, offer)["status"] == "declined"
    declined = wait_for_mail(mail, SAM, before + 2)[-1]
    assert declined["Subject"].startswith(f"Angebot {number} abgelehnt")
    assert "Der Preis ist zu hoch" in text_of(declined)
    assert notices(kontor, offer) == (2, 2)


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("outcome, via, comment", [("accepted", "link", "Bitte Lieferung ab KW 3"),
                                                   ("declined", "mail", None), ("to_review", "mail", "<b>?</b>")])
def test_the_notice_reads_in_german_and_english(kontor, language, outcome, via, comment):
    context = {"salesperson_name": "Sara Sales", "offer_label": "OFF-2026-0001", "title": "Netzwerk",
               "customer_name": "Müller GmbH", "summary": "OFF-2026-0001 · Müller GmbH · 13.900,39 €",
               "outcome": outcome, "via": via, "comment": comment, "offer_url": "https://kontor.test/api/v1/offers/1",
               "company_name": "Kontor Demo GmbH"}
    subject, text, html = kontor.mail_templates.render("offer_answer_notice", language, context)
    words = {("de", "accepted"): "angenommen", ("de", "declined"): "abgelehnt", ("de", "to_review"): "bitte prüfen",
             ("en", "accepted"): "accepted", ("en", "declined"): "declined", ("en", "to_review"): "please review"}
    assert words[language, outcome] in subject and "OFF-2026-0001" in subject and "Müller GmbH" in subject
    assert ("Sara Sales" in text and context["summary"] in text and context["offer_url"] in text)
    assert (comment or "") in text and ("Kommentar" in text or "comment" in text) == bool(comment)
    assert "<b>?</b>" not in html and ("&lt;b&gt;?&lt;/b&gt;" in html) == (comment == "<b>?</b>")
