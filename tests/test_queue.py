"""The one queue mechanism (runtime.queue) that service jobs and the outbox share: its backoff and
dead-letter rules, and the one ops path: every queue's dead letters in /incidents, run again once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kernel.errors import Conflict
from kernel.principal import SYSTEM
from mailers.dispatch import send_due_mail
from mailers.outbox import OUTBOX, OutboxMail
from runtime import queue
from runtime.jobs import SERVICE_JOBS
from runtime.models import AuditEvent, Incident
from tests.mailbox import wait_for_mail
from tests.support import ok
from tests.test_outbox import address
from tests.test_outbox import queue as queue_outbox_mail


def test_backoff_doubles_from_the_base_up_to_the_cap():
    assert [queue.backoff_seconds(attempt, 2.0, 10.0) for attempt in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert queue.backoff_seconds(3, 0.0, 60.0) == 0.0


def test_the_last_attempt_or_a_permanent_failure_is_a_dead_letter():
    assert [queue.after_failure(attempt, 3) for attempt in (1, 2, 3, 4)] == ["retry", "retry", "dead", "dead"]
    assert queue.after_failure(1, 3, permanent=True) == "dead"


def test_every_kind_is_a_named_queue_and_names_are_unique():
    assert queue.queue_named("service_jobs") is SERVICE_JOBS and queue.queue_named("outbox") is OUTBOX
    assert queue.register(OUTBOX) is OUTBOX  # declaring the same queue again (a module reloaded) is harmless
    with pytest.raises(ValueError):
        queue.register(queue.Queue("outbox", OutboxMail, queue.States(), describe=lambda row: {}))


def test_a_dead_mail_is_an_incident_and_its_retry_sends_it_once(kontor, mail, api):
    to = address()
    kontor.settings.outbox_max_attempts = 2
    kontor.settings.outbox_backoff_base_seconds = 0.0
    mail.smtp.stop()
    outbox_id = queue_outbox_mail(kontor, to)
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "retry": 1}
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "dead": 1}

    listed = ok(api.get("/incidents", user="olga"))
    [dead] = [item for item in listed["items"] if item["queue"] == "outbox"]
    assert (dead["item_id"], dead["attempts"], dead["job_id"], dead["instance_id"]) == (outbox_id, 2, None, None)
    assert "not reachable" in dead["error"] and dead["opened_at"] and dead["operation"].startswith("mail notice")
    assert ok(api.get("/incidents", params={"queue": "outbox"}, user="olga"))["total"] == 1
    assert ok(api.get("/incidents", params={"queue": "service_jobs"}, user="olga"))["total"] == 0
    assert api.post(f"/incidents/{dead['id']}/retry", user="sam").status_code == 403

    mail.smtp.start()
    retried = ok(api.post(f"/incidents/{dead['id']}/retry", user="olga"))
    assert retried["resolved_by"] == "olga" and retried["queue"] == "outbox"
    # once: the incident again, or the mail through the outbox's own path, is a conflict
    assert api.post(f"/incidents/{dead['id']}/retry", user="olga").status_code == 409
    assert api.post(f"/outbox/{outbox_id}/requeue", user="olga").status_code == 409
    assert ok(api.get("/incidents", user="olga"))["total"] == 0  # resolved: no longer open
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "sent": 1}
    assert send_due_mail(kontor.sessions, kontor.settings).claimed == 0
    assert len(wait_for_mail(mail, to)) == 1
    with kontor.transaction() as session:
        row = session.get(OutboxMail, outbox_id)
        assert (row.state, row.attempts) == ("sent", 1)
        retries = session.scalars(select(AuditEvent).where(AuditEvent.kind == "incident_retried")).all()
        assert [(event.actor, event.details["queue"], event.details["item"]) for event in retries] \
            == [("olga", "outbox", outbox_id)]


def test_the_outbox_requeue_resolves_the_mails_incident(kontor, mail, api):
    kontor.settings.outbox_max_attempts = 1
    mail.smtp.stop()
    outbox_id = queue_outbox_mail(kontor, address())
    assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "dead": 1}
    [incident] = ok(api.get("/incidents", user="olga"))["items"]
    assert ok(api.post(f"/outbox/{outbox_id}/requeue", user="olga"))["state"] == "pending"
    assert api.post(f"/incidents/{incident['id']}/retry", user="olga").status_code == 409
    with kontor.transaction() as session:
        assert session.get(Incident, incident["id"]).resolved_by == "olga"


def test_retrying_an_item_that_is_not_dead_is_a_conflict(kontor):
    outbox_id = queue_outbox_mail(kontor, address())
    with kontor.transaction() as session:
        with pytest.raises(Conflict):
            queue.retry_item(session, "outbox", outbox_id, SYSTEM)
        assert session.get(OutboxMail, outbox_id).state == "pending"
