"""What business modules register with the mail package (pure, no database): what is not registered
is answered the safe way, a question has one answer, and mail templates come from the modules'
folders without shadowing each other."""
from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import Forbidden
from kernel.principal import Principal
from mailers.compose import LANGUAGES, TEMPLATES, MailTemplates
from mailers.routes import MailRoutes

OFFER_MAILS = Path(__file__).resolve().parent.parent / "domain" / "offers" / "mail_templates"
MANAGER = Principal("mia", frozenset({"manager"}))


def test_unregistered_questions_are_answered_the_safe_way():
    routes = MailRoutes()
    assert routes.senders.contacts_with(None, "anna@acme.example.test") == []  # nobody is a known sender
    assert not routes.senders.is_contact_of(None, 1, "anna@acme.example.test")
    assert not routes.takes_leads  # the leads mailbox quarantines
    with pytest.raises(Forbidden):  # nobody passes a customer check nobody registered
        routes.require_editable(None, MANAGER, None, None, customer_id=1)
    with pytest.raises(Forbidden):
        routes.require_mail_reader(None, MANAGER, 1)
    routes.trace(None, 1, "mail_received", "mia", "nothing is written")  # no timeline: no trace


def test_each_question_has_one_answer():
    routes = MailRoutes()
    routes.register_record("offer", lambda session, who, record_id: None)
    with pytest.raises(ValueError):  # a second module may not weaken (or replace) the first one's check
        routes.register_record("offer", lambda session, who, record_id: None)
    routes.register_leads(lambda session, who, mail: 1)
    with pytest.raises(ValueError):
        routes.register_leads(lambda session, who, mail: 2)


def test_a_module_brings_its_mail_templates_complete_and_under_names_of_its_own(tmp_path):
    templates = MailTemplates()
    templates.register(OFFER_MAILS)
    templates.register(OFFER_MAILS)  # the same folder twice: once
    assert {"notice", "offer", "offer_reminder", "approval_reminder", "order_confirmation"} <= templates.names()
    for name in templates.names():
        for language in LANGUAGES:
            for part in ("subject.txt", "txt", "html"):
                assert (TEMPLATES / f"{name}.{language}.{part}").exists() or \
                       (OFFER_MAILS / f"{name}.{language}.{part}").exists(), f"{name}.{language}.{part} is missing"
    clash = tmp_path / "clash"
    clash.mkdir()
    for language in LANGUAGES:
        for part in ("subject.txt", "txt", "html"):
            (clash / f"notice.{language}.{part}").write_text("x")
    with pytest.raises(ValueError, match="notice"):  # never shadows another module's mail
        templates.register(clash)
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    (incomplete / "reminder.de.txt").write_text("x")
    with pytest.raises(ValueError, match="reminder.en.txt"):  # found at start-up, not as a dead letter
        templates.register(incomplete)
    assert "reminder" not in templates.names()
