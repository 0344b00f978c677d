"""The embedded mail pair a newcomer gets with the quick start: what Kontor sends over SMTP can be
read over IMAP, and the maildirs stay in the data folder."""
from __future__ import annotations

import os
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from cli.embedded import local_mailboxes, start_local_mail
from kontor.settings import Settings
from mailers.imap_reader import connect
from mailers.local_servers import free_port
from tests.mailbox import wait_for_mail

KONTOR = Path(sys.executable).with_name("kontor")


def test_embedded_mail_delivers_into_a_mailbox_readable_over_imap(tmp_path):
    settings = Settings(data_dir=tmp_path, smtp_port=free_port(), local_imap_port=free_port())
    servers = start_local_mail(settings)
    assert servers is not None, "the local mail servers did not start"
    try:
        assert (servers.smtp.port, servers.dovecot.imap_port) == (settings.smtp_port, settings.local_imap_port)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "vertrieb@kontor.localhost", "neu@example.test", "Test"
        message.set_content("Grüße aus Kontor")
        with smtplib.SMTP("127.0.0.1", settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
        [received] = wait_for_mail(servers, "neu@example.test")
        assert received.get_content().strip() == "Grüße aus Kontor"
    finally:
        servers.stop()
    assert not servers.smtp.running and servers.dovecot.process is None


def test_embedded_mode_reads_its_reply_and_leads_mailboxes(tmp_path):
    settings = Settings(data_dir=tmp_path, smtp_port=free_port(), local_imap_port=free_port())
    servers = start_local_mail(settings)
    try:
        boxes = local_mailboxes(settings, servers)
        assert [(b.name, b.purpose, b.username) for b in boxes] == [
            ("antwort", "replies", "antwort@kontor.localhost"), ("anfragen", "leads", "anfragen@kontor.localhost")]
        for box in boxes:  # both log in on the local Dovecot
            with connect(box) as client:
                assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        servers.stop()


def test_a_configured_smtp_server_means_no_local_mail(tmp_path):
    assert start_local_mail(Settings(data_dir=tmp_path, smtp_host="mail.example.com")) is None


def test_the_mail_test_command_sends_through_the_outbox(tmp_path, mail_servers):
    to = "pruefung@example.test"
    env = {**os.environ, "KONTOR_DATA_DIR": str(tmp_path), "KONTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}",
           "KONTOR_SMTP_PORT": str(mail_servers.smtp.port)}
    done = subprocess.run([str(KONTOR), "mail", "test", to, "--language", "en"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"mail 1 to {to}: sent"
    [received] = wait_for_mail(mail_servers, to)
    assert received["Subject"] == "Kontor: test mail"
    closed = {**env, "KONTOR_SMTP_PORT": str(free_port())}
    failed = subprocess.run([str(KONTOR), "mail", "test", to], env=closed, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert "mail 2 to pruefung@example.test: pending (SMTP server not reachable" in failed.stdout
