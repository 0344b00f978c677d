"""SMTP with STARTTLS and with implicit TLS, as settings choose: the server's certificate is checked
(against a private CA file here), a server Kontor cannot trust gets no mail; on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import ipaddress
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from kernel.principal import SYSTEM
from mailers.dispatch import send_due_mail
from mailers.local_servers import SmtpRelay
from mailers.outbox import OutboxMail, Recipient, queue_mail
from tests.mailbox import wait_for_mail


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (it is its own CA)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.pem", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def queue(kontor, to: str) -> int:
    with kontor.transaction() as session:
        return queue_mail(session, kontor.settings, who=SYSTEM, template="notice", recipient=Recipient(to),
                          context={"subject": "TLS", "text": "x", "sender_name": "R", "salutation": None}).id


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_out_encrypted_and_only_to_a_trusted_server(kontor, mail, certificate, security):
    relay = SmtpRelay(mail.dovecot.lmtp_port, security=security, certificate=certificate,
                      username="kontor", password="smtp-secret-2").start()
    try:
        kontor.settings.smtp_port, kontor.settings.smtp_security = relay.port, security
        kontor.settings.smtp_username, kontor.settings.smtp_password = "kontor", SecretStr("smtp-secret-2")
        kontor.settings.smtp_ca_file = None  # the system's CAs do not know this certificate
        to = f"tls-{uuid.uuid4().hex[:8]}@example.test"
        outbox_id = queue(kontor, to)
        assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "retry": 1}
        with kontor.transaction() as session:
            row = session.get(OutboxMail, outbox_id)
            assert "certificate" in row.last_error.lower()
            row.next_attempt_at = row.created_at  # due again at once
        kontor.settings.smtp_ca_file = certificate[0]
        assert send_due_mail(kontor.sessions, kontor.settings).as_dict() == {"claimed": 1, "sent": 1}
        assert len(wait_for_mail(mail, to)) == 1
    finally:
        kontor.settings.smtp_ca_file = None
        relay.stop()
