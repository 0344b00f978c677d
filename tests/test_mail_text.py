"""Pure logic of received mail: the new text of a reply, and what counts as automatic mail."""
from __future__ import annotations

import pytest

from mailers.classify import classify
from mailers.parse import html_to_text, parse
from mailers.reply_text import reply_text

REPLIES = {
    "gmail_de": ("Ja, gerne.\n\nAm Fr., 20. Nov. 2026 um 10:12 Uhr schrieb Rita Reich <rita@kontor.example>:\n"
                 "> Guten Tag", "Ja, gerne."),
    "gmail_de_wrapped": ("Ja, gerne.\n\nAm Fr., 20. Nov. 2026 um 10:12 Uhr schrieb Rita Reich <\n"
                         "rita@kontor.example>:\n> Guten Tag", "Ja, gerne."),
    "gmail_en": ("Sounds good.\n\nOn Fri, Nov 20, 2026 at 10:12 AM Rita Reich <rita@kontor.example> wrote:\n> Hello",
                 "Sounds good."),
    "apple_de": ("Passt.\n\n> Am 20.11.2026 um 10:12 schrieb Rita Reich <rita@kontor.example>:\n>\n> Hallo",
                 "Passt."),
    "outlook_de": ("Wir lehnen ab.\n\nVon: Rita Reich <rita@kontor.example>\nGesendet: Freitag, 20. November 2026\n"
                   "An: Anna Müller\nBetreff: Angebot", "Wir lehnen ab."),
    "outlook_en_bold": ("Declined.\n\n*From:* Rita Reich\n*Sent:* Friday\n*To:* John\n*Subject:* Offer", "Declined."),
    "outlook_separator": ("OK\n________________________________\nFrom: Rita\nSent: Friday", "OK"),
    "original_message_de": ("Einverstanden.\n\n-----Ursprüngliche Nachricht-----\nVon: Rita", "Einverstanden."),
    "original_message_en": ("Fine.\n-----Original Message-----\nFrom: Rita", "Fine."),
    "signature": ("Danke!\n-- \nAnna Müller\nEinkauf, ACME GmbH", "Danke!"),
    "quote_only_below": ("Bitte liefern.\n\n> Sehr geehrte Frau Müller,\n> anbei unser Angebot.", "Bitte liefern."),
    "inline_answers": ("> Liefertermin?\nJanuar.\n> Menge?\n20 Stück.", "Januar.\n20 Stück."),
    "no_history": ("Nur eine kurze Nachricht.\nZweite Zeile.", "Nur eine kurze Nachricht.\nZweite Zeile."),
    "windows_line_ends": ("Ja.\r\n\r\nOn Mon, Rita wrote:\r\n> x", "Ja."),
    "von_in_text_is_kept": ("Von: heute an gilt der neue Preis? Bitte bestätigen.",
                            "Von: heute an gilt der neue Preis? Bitte bestätigen."),
}


@pytest.mark.parametrize("case", sorted(REPLIES))
def test_the_new_text_of_a_reply(case):
    text, expected = REPLIES[case]
    assert reply_text(text) == expected


def test_html_becomes_readable_text_without_scripts_or_styles():
    markup = ("<html><head><style>p{}</style></head><body><script>alert(1)</script><p>Guten&nbsp;Tag,</p>"
              "<div>Zeile&nbsp;2<br>Zeile 3</div></body></html>")
    assert html_to_text(markup) == "Guten Tag,\n\nZeile 2\nZeile 3"


def headers(extra: str) -> bytes:
    return f"From: a@example.test\nTo: b@example.test\nSubject: Hallo\n{extra}\nhello\n".encode()


@pytest.mark.parametrize("extra, kind", [
    ("Auto-Submitted: auto-replied\n", "auto_reply"),
    ("Auto-Submitted: auto-generated\n", "auto_reply"),
    ("Auto-Submitted: no\n", None),
    ("X-Autoreply: yes\n", "auto_reply"),
    ("X-Autorespond: on\n", "auto_reply"),
    ("Precedence: bulk\n", "auto_reply"),
    ("Precedence: auto_reply\n", "auto_reply"),
    ("Precedence: first-class\n", None),
    ("X-Failed-Recipients: gone@example.test\n", "bounce"),
    ("", None),
])
def test_what_counts_as_automatic_mail(extra, kind):
    found = classify(parse(headers(extra)))
    assert (found.kind if found else None) == kind


def test_a_mailer_daemon_notice_without_a_report_is_a_bounce_too():
    raw = b"From: MAILER-DAEMON@mx.example.test\nTo: b@example.test\nSubject: Unzustellbar: Angebot\n\nweg\n"
    assert classify(parse(raw)).kind == "bounce"


def test_a_person_writing_about_undeliverable_goods_is_no_bounce():
    raw = b"From: anna@example.test\nTo: b@example.test\nSubject: Ware unzustellbar?\n\nWo bleibt sie?\n"
    assert classify(parse(raw)) is None


def test_encoded_word_headers_are_decoded():
    raw = (b"From: =?utf-8?B?SsO8cmdlbiBLw7ZuaWc=?= <jk@example.test>\nTo: b@example.test\n"
           b"Subject: =?iso-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\n\nx\n")
    parsed = parse(raw)
    assert (parsed.sender_name, parsed.sender, parsed.subject) == ("Jürgen König", "jk@example.test", "Grüße aus Köln")


def _deeply_nested(levels: int) -> bytes:
    raw = b"From: a@example.test\nContent-Type: multipart/mixed; boundary=b0\n\n"
    for level in range(levels):
        raw += b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (level, level + 1)
    return raw


@pytest.mark.parametrize("raw", [
    b"From: a@example.test\nDate: 1 Jan 99999999999999999999 00:00:00 +0000\n\nx",
    b'From: a@example.test\nContent-Type: text/plain; charset="ut\x00f"\n\nx',
    b"From: a@example.test\nSubject: =?ut\x00f?q?hi?=\n\nx",
    b"From: <a\x00b@example.test>\n\nx",
    b"From: " + b"a" * 400 + b"@example.test\nMessage-ID: <" + b"m" * 300 + b"@x>\n\nx",
    _deeply_nested(1000),
    b"\xff\xfe\x00garbage without any header",
    b"",
], ids=["huge-year", "nul-charset", "nul-encoded-word", "nul-address", "overlong", "nested-1000", "garbage", "empty"])
def test_hostile_input_never_makes_the_parser_raise(raw):
    parsed = parse(raw)
    assert parsed.message_id.startswith("<") and len(parsed.message_id) <= 250
    assert parsed.sender is None or (len(parsed.sender) <= 254 and "\x00" not in parsed.sender)
    assert "\x00" not in parsed.subject and "\x00" not in parsed.text
    classify(parsed)  # and classification copes with what came out
    reply_text(parsed.text)


def test_a_long_quoted_history_is_cut_in_one_pass():
    # 100,000 quoted lines: a scan per quoted line (quadratic) took hours; one pass, well under a second
    assert reply_text("Neu.\n" + "> alt\n" * 100_000) == "Neu."


@pytest.mark.parametrize("value, address", [("rfc822; <gone@example.test>", "gone@example.test"),
                                            ("rfc822;gone@example.test", "gone@example.test")])
def test_dsn_recipients_with_or_without_angle_brackets(value, address):
    raw = ("From: MAILER-DAEMON@mx.example.test\nTo: b@example.test\nSubject: Undelivered\nMIME-Version: 1.0\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
           "--r\nContent-Type: text/plain\n\n"
           "failed\n--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
           f"Final-Recipient: {value}\nAction: failed\nStatus: 5.1.1\n--r--\n").encode()
    assert classify(parse(raw)).failed_addresses == (address,)
