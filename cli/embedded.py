"""Embedded mode for a newcomer's machine: a local Prefect server as a child process, stopped with Kontor."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kontor.settings import Settings


def prefect_env(settings: Settings) -> dict[str, str]:
    home = settings.data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    return {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_URL": f"http://127.0.0.1:{settings.prefect_port}/api",
            "PREFECT_UI_API_URL": f"http://127.0.0.1:{settings.prefect_port}/api"}


def wait_healthy(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


def start_prefect_server(settings: Settings, log_path: Path | None = None) -> subprocess.Popen:
    """Start `prefect server start` on 127.0.0.1 and point this process at it."""
    env = prefect_env(settings)
    os.environ.update(env)
    log_path = log_path or settings.data_dir / "prefect-server.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(settings.prefect_port)],
        env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{settings.prefect_port}/api/health", 90, process)
    except RuntimeError:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drain_flow_run_logs() -> None:
    """Hand the flow runs' last log lines to Prefect while it still runs (else they are lost with an
    error on the console when Kontor stops its embedded Prefect server)."""
    if "prefect" not in sys.modules:
        return
    from prefect.logging.handlers import APILogWorker

    try:
        APILogWorker.drain_all(timeout=5)
    except Exception as exc:  # noqa: BLE001 - stopping goes on; the lines are Prefect's, not Kontor's data
        print(f"the last flow-run log lines did not reach Prefect: {exc}", file=sys.stderr)


def start_local_mail(settings: Settings):
    """The mail pair of embedded mode: whatever Kontor sends lands in Dovecot's mailboxes under
    data_dir/maildirs, readable with any mail client over IMAP (127.0.0.1, any address as the user,
    the password of mailers.local_servers.Dovecot). None when a real SMTP server is configured or
    Dovecot is missing (mail then waits in the outbox)."""
    from mailers.local_servers import LocalMail, MailServerError

    if settings.smtp_host not in ("127.0.0.1", "localhost"):
        return None
    try:
        return LocalMail.start(settings.data_dir / "mailservers", smtp_port=settings.smtp_port,
                               imap_port=settings.local_imap_port, mail_root=settings.data_dir / "maildirs")
    except (MailServerError, OSError) as exc:
        print(f"local mail servers not started ({exc}); mail stays in the outbox", file=sys.stderr)
        return None


def local_mailboxes(settings: Settings, servers) -> list:
    """Embedded mode reads its own reply mailbox and a leads mailbox (anfragen@<reply domain>) on the
    local Dovecot, unless mailboxes are configured."""
    from kontor.settings import MailboxConfig

    password = servers.dovecot.password
    return [MailboxConfig(name="antwort", port=servers.dovecot.imap_port, password=password,
                          username=f"{settings.reply_local}@{settings.reply_domain}"),
            MailboxConfig(name="anfragen", port=servers.dovecot.imap_port, password=password, purpose="leads",
                          username=f"anfragen@{settings.reply_domain}")]
