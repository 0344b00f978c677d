"""A real mail pair on loopback for the tests and the embedded quick start: Dovecot (IMAP, and LMTP
for delivery) from Debian's packages, configured in a folder of its own, and an aiosmtpd SMTP server
that hands every message it accepts to Dovecot's LMTP listener. Mail sent by Kontor over SMTP can so
be read back over IMAP, as a customer's mailbox would hold it.

Neither server is a fake: Dovecot is the real IMAP server, aiosmtpd a real SMTP implementation. They
listen on 127.0.0.1 only and are stopped by their process (Dovecot) or thread (aiosmtpd).
"""
from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DOVECOT_PACKAGES = ("dovecot-imapd", "dovecot-lmtpd")


class MailServerError(RuntimeError):
    """A local mail server could not start; the message says why and what to install."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise MailServerError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s\n{detail}")


@dataclass
class Dovecot:
    """Dovecot with a static password for every user and a maildir per address (`user@domain`)."""
    folder: Path
    password: str = "kontor-mail"
    imap_port: int = field(default_factory=free_port)
    lmtp_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    mail_root: Path | None = None  # default: mail/ in the folder (as root: a folder `nobody` can reach)
    _temporary_root: bool = False
    _run_dir: Path | None = None  # Dovecot's sockets: a short path (sockets allow 107 bytes)

    def start(self, timeout: float = 15) -> Dovecot:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            raise MailServerError("Dovecot is not installed: apt-get install -y " + " ".join(DOVECOT_PACKAGES)
                                  + " (the README's test command installs it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._prepare_folders()
        config = self.folder / "dovecot.conf"
        config.write_text(self._config())
        # its own session: Ctrl-C in Kontor's terminal stops Kontor, which stops Dovecot after its worker
        self.process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=open(self.folder / "dovecot.stderr", "wb"), start_new_session=True)
        try:
            _wait_for_port(self.imap_port, timeout, "Dovecot IMAP", self.folder / "dovecot.log")
            _wait_for_port(self.lmtp_port, timeout, "Dovecot LMTP", self.folder / "dovecot.log")
        except MailServerError:
            self.stop()
            raise
        if self.process.poll() is not None:
            raise MailServerError(f"Dovecot exited: {(self.folder / 'dovecot.stderr').read_text(errors='replace')}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._temporary_root and self.mail_root is not None:
            shutil.rmtree(self.mail_root, ignore_errors=True)
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None

    def _accounts(self) -> tuple[pwd.struct_passwd, str, str]:
        """Mail processes refuse to run as root: as root, mail belongs to `nobody` and Dovecot's own
        service users do the rest; otherwise everything runs as the current user."""
        if os.geteuid() == 0:
            return pwd.getpwnam("nobody"), "dovecot", "dovenull"
        me = pwd.getpwuid(os.geteuid())
        return me, me.pw_name, me.pw_name

    def _prepare_folders(self) -> None:
        (self.folder / "state").mkdir(exist_ok=True)
        self._run_dir = Path(tempfile.mkdtemp(prefix="kontor-dovecot-"))
        self._run_dir.chmod(0o755)
        if self.mail_root is None:
            self.mail_root = self.folder / "mail"
        if os.geteuid() == 0 and not _others_can_reach(self.mail_root):
            # Mail belongs to `nobody`, who must reach the maildirs; test folders are private (0700)
            # all the way up, so the mail gets a folder of its own directly under the temp directory.
            self.mail_root = Path(tempfile.mkdtemp(prefix="kontor-maildirs-"))
            self.mail_root.chmod(0o711)
            self._temporary_root = True
        self.mail_root.mkdir(parents=True, exist_ok=True)
        owner, _, _ = self._accounts()
        if os.geteuid() == 0:
            os.chown(self.mail_root, owner.pw_uid, owner.pw_gid)

    def _config(self) -> str:
        owner, internal, login = self._accounts()
        d = self.folder
        return f"""# written by Kontor for a local test or demo server
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {self._run_dir}
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_uid = {owner.pw_uid}
mail_gid = {owner.pw_gid}
mail_location = maildir:{self.mail_root}/%u
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={self.mail_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
"""


def _others_can_reach(folder: Path) -> bool:
    """Whether every existing folder above `folder` lets other users pass (o+x)."""
    for parent in folder.resolve().parents:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            return False
    return True


class _DeliverToLmtp:
    """aiosmtpd handler: each accepted message goes on to Dovecot over LMTP, recipient by recipient."""

    def __init__(self, lmtp_port: int):
        self.lmtp_port = lmtp_port
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._deliver, envelope)
        except (OSError, smtplib.SMTPException) as exc:
            return f"451 4.3.0 mailbox not reachable: {exc}"
        self.received += 1
        return "250 2.0.0 delivered"

    def _deliver(self, envelope) -> None:
        with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)


class _StaticAuthenticator:
    def __init__(self, username: str, password: str):
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == self.username \
            and auth_data.password == self.password
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpRelay:
    """An SMTP server on loopback delivering into Dovecot; with `username`, it requires AUTH."""
    lmtp_port: int
    port: int = field(default_factory=free_port)
    username: str | None = None
    password: str | None = None
    security: str = "none"  # none | starttls (required) | tls (implicit)
    certificate: tuple[Path, Path] | None = None  # (certificate, key) in PEM for starttls and tls
    controller: Controller | None = None

    def start(self) -> SmtpRelay:
        self.handler = _DeliverToLmtp(self.lmtp_port)
        options: dict = {}
        if self.username:
            options.update(authenticator=_StaticAuthenticator(self.username, self.password or ""),
                           auth_required=True, auth_require_tls=self.security == "starttls")  # tls: always
        if self.security != "none":
            if self.certificate is None:
                raise MailServerError("an SMTP server with TLS needs a certificate and key")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.certificate))
            if self.security == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def running(self) -> bool:
        return self.controller is not None


@dataclass
class LocalMail:
    """Dovecot plus the SMTP relay: what the tests and the embedded quick start use."""
    dovecot: Dovecot
    smtp: SmtpRelay

    @classmethod
    def start(cls, folder: Path, smtp_port: int | None = None, imap_port: int | None = None,
              mail_root: Path | None = None) -> LocalMail:
        dovecot = Dovecot(folder, mail_root=mail_root, **({"imap_port": imap_port} if imap_port else {})).start()
        try:
            smtp = SmtpRelay(dovecot.lmtp_port, **({"port": smtp_port} if smtp_port else {})).start()
        except Exception:
            dovecot.stop()
            raise
        return cls(dovecot, smtp)

    def stop(self) -> None:
        self.smtp.stop()
        self.dovecot.stop()
