"""Reply tokens (pure logic) and the mail templates' completeness."""
from __future__ import annotations

import pytest

from mailers import tokens
from mailers.compose import LANGUAGES, TEMPLATES, render, template_names

KEY = "a-test-signing-key-of-some-length"


def test_a_token_names_its_outbox_row_and_survives_a_change_of_case():
    token = tokens.sign(KEY, 4711)
    assert tokens.verify(KEY, token) == 4711
    assert tokens.verify(KEY, token.upper()) == 4711  # mail systems may change a local part's case
    assert len(tokens.reply_address(KEY, 4711, "antwort", "kontor.example")) <= 64 + 1 + len("kontor.example")


@pytest.mark.parametrize("forged", [
    lambda t: t.replace("4711", "4712", 1),  # another row's id with this row's signature
    lambda t: t[:-1] + ("a" if t[-1] != "a" else "b"),  # one character of the signature changed
    lambda t: t[:-3],  # cut short
    lambda t: "",
    lambda t: "4711-" + "a" * 24,
    lambda t: t + "\x00",
])
def test_a_forged_or_damaged_token_names_nothing(forged):
    assert tokens.verify(KEY, forged(tokens.sign(KEY, 4711))) is None


def test_a_token_of_another_installation_names_nothing():
    assert tokens.verify("another-installations-key-0000", tokens.sign(KEY, 1)) is None


def test_the_token_is_read_from_a_reply_address_only():
    address = tokens.reply_address(KEY, 12, "antwort", "kontor.example")
    assert tokens.token_in_address(address.upper(), "antwort", "kontor.example") == tokens.sign(KEY, 12)
    assert tokens.token_in_address("antwort@kontor.example", "antwort", "kontor.example") is None
    assert tokens.token_in_address("vertrieb+12-x@kontor.example", "antwort", "kontor.example") is None
    assert tokens.token_in_address(f"antwort+{tokens.sign(KEY, 12)}@other.example", "antwort",
                                   "kontor.example") is None


def test_every_template_exists_in_every_language_with_subject_text_and_html():
    names = template_names()
    assert "notice" in names
    for name in names:
        for language in LANGUAGES:
            for part in ("subject.txt", "txt", "html"):
                assert (TEMPLATES / f"{name}.{language}.{part}").exists(), f"{name}.{language}.{part} is missing"


def test_a_template_renders_subject_on_one_line():
    subject, text, html = render("notice", "de", {"subject": "Ihre\nAnfrage", "text": "Hallo", "salutation": None,
                                                  "sender_name": "R"})
    assert subject == "Ihre Anfrage" and "Guten Tag," in text and "<p>Hallo</p>" in html
