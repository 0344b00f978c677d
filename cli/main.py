"""`kontor` command line: serve, worker, migrate, deploy, mail test, user (cli/users.py)."""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time

from pydantic import ValidationError
from pydantic_settings import SettingsError

from cli import users
from cli.logs import configure_logging, route_server_lines_to_console
from kontor.settings import Settings

STARTUP_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # about 15 s for a database that is restarting


def _bootstrap(settings: Settings):
    """Migrate and deploy; a passing database error (the server restarting, a dropped connection)
    is tried again a few times, so that a worker or API started beside its database comes up."""
    from kernel.errors import SpecError
    from kernel.transient import is_transient_database_error
    from kontor.bootstrap import bootstrap

    for delay in (*STARTUP_RETRY_DELAYS, None):
        try:
            return bootstrap(settings)
        except SpecError as exc:
            print(f"kontor: cannot deploy {exc.file}: {exc.element}: {exc.reason}", file=sys.stderr)
            raise SystemExit(2) from None
        except Exception as exc:  # noqa: BLE001 - only passing database errors are tried again
            if delay is None or not is_transient_database_error(exc):
                raise
            print(f"kontor: the database is not reachable ({type(exc).__name__}); trying again in {delay:g} s",
                  file=sys.stderr)
            time.sleep(delay)


def cmd_migrate(settings: Settings, _args) -> int:
    from kernel.db import migrate

    migrate(settings.resolved_database_url)
    print(f"database at newest schema: {settings.resolved_database_url.split('@')[-1]}")
    return 0


def cmd_deploy(settings: Settings, _args) -> int:
    kontor = _bootstrap(settings)
    for key, version in kontor.deployed:
        print(f"{key} version {version}")
    return 0


def cmd_mail_test(settings: Settings, args) -> int:
    """Queue a test mail and send it at once: checks the SMTP settings end to end, through the outbox."""
    from kernel.principal import SYSTEM
    from kontor.bootstrap import bootstrap
    from mailers.dispatch import send_due_mail
    from mailers.outbox import OutboxMail, Recipient, queue_mail

    kontor = bootstrap(settings, deploy=False)
    try:
        with kontor.transaction() as session:
            german = args.language == "de"
            row = queue_mail(session, settings, who=SYSTEM, template="notice",
                             recipient=Recipient(args.to, language=args.language),
                             context={"subject": "Kontor: Testnachricht" if german else "Kontor: test mail",
                                      "text": "Diese Nachricht prüft den Versand." if german
                                      else "This message checks that mail goes out.",
                                      "sender_name": "Kontor", "salutation": None})
            outbox_id = row.id
        send_due_mail(kontor.sessions, settings, templates=kontor.mail_templates)
        with kontor.transaction() as session:
            row = session.get(OutboxMail, outbox_id)
            print(f"mail {row.id} to {row.to_address}: {row.state}"
                  + (f" ({row.last_error})" if row.last_error else ""))
            return 0 if row.state == "sent" else 1
    finally:
        kontor.dispose()


def _ensure_first_admin(kontor) -> None:
    """Embedded mode: a fresh database gets an admin whose password is written to the data folder once."""
    from sqlalchemy import func, select

    from domain.users import User, add_user
    from kernel.private_files import create_private_file

    with kontor.transaction() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return
        password = secrets.token_urlsafe(12)
        add_user(session, "admin", password, ["admin", "ops"])
    path = kontor.settings.data_dir / "initial-admin-password"
    path.unlink(missing_ok=True)  # left from an earlier database
    create_private_file(path, (password + "\n").encode())
    print(f"created user 'admin'; its password is in {path}")


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def cmd_serve(settings: Settings, args) -> int:
    import uvicorn

    from api.app import create_app
    from cli.embedded import (
        drain_flow_run_logs,
        local_mailboxes,
        start_local_mail,
        start_prefect_server,
        stop_process,
    )
    from kernel.private_files import secure_data_folder
    from kontor.bootstrap import settle_long_running_process

    prefect_server = local_mail = kontor = worker = helpers = None
    secure_data_folder(settings.data_dir, settings.sqlite_path)  # private before anything puts files there
    try:
        if args.embedded and not os.environ.get("PREFECT_API_URL"):
            print(f"starting local Prefect server on http://127.0.0.1:{settings.prefect_port} ...")
            prefect_server = start_prefect_server(settings)
        if args.embedded:
            local_mail = start_local_mail(settings)
            if local_mail is not None and not settings.mailboxes:
                settings.mailboxes = local_mailboxes(settings, local_mail)
                print("reading the mailboxes " + ", ".join(f"{box.name} ({box.username})" for box in settings.mailboxes)
                      + f" every {settings.mail_poll_seconds:g} s")
            if local_mail is not None:
                print(f"local mail: SMTP on 127.0.0.1:{local_mail.smtp.port}, read it over IMAP on "
                      f"127.0.0.1:{local_mail.dovecot.imap_port} (user: the address, password: "
                      f"{local_mail.dovecot.password})")
        kontor = _bootstrap(settings)
        if args.embedded:
            _ensure_first_admin(kontor)
        if args.embedded or args.with_worker:
            from flows.worker import start_worker_thread
            from flows.worker_processes import WorkerProcesses

            worker = start_worker_thread(kontor)
            helpers = WorkerProcesses(settings, setup_logging=configure_logging).start()
        settle_long_running_process()
        # uvicorn re-raises the signal that stopped it once it is done: let that end in our cleanup below.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        print(f"Kontor API on http://{args.host}:{args.port}/docs")
        # log_config=None: uvicorn's lines go through the console configure_logging set up. Its own
        # dictConfig would shut the existing handlers down while the worker thread logs (a flow run
        # starting): a lock-order deadlock between logging's module lock and a handler's lock.
        app = create_app(kontor)
        route_server_lines_to_console()
        uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower(), log_config=None)
    finally:
        if helpers is not None:
            helpers.stop()
        if worker is not None:
            worker[1].set()
            worker[0].join(timeout=10)
        if prefect_server is not None:
            drain_flow_run_logs()
            stop_process(prefect_server)
        if local_mail is not None:
            local_mail.stop()
        if kontor is not None:
            kontor.dispose()
    return 0


def cmd_worker(settings: Settings, _args) -> int:
    import asyncio
    import threading

    from flows.deployments import serve
    from flows.worker_processes import WorkerProcesses
    from kontor.bootstrap import set_current, settle_long_running_process

    if not os.environ.get("PREFECT_API_URL"):
        print("kontor worker: set PREFECT_API_URL to the Prefect server the worker reports to "
              "(scripts/start runs one for you)", file=sys.stderr)
        return 2
    kontor = _bootstrap(settings)
    set_current(kontor)
    settle_long_running_process()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        asyncio.run(serve(kontor, stop, WorkerProcesses(settings, setup_logging=configure_logging)))
    finally:
        kontor.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kontor", description="Kontor back-office")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--embedded", action="store_true",
                       help="newcomer mode: local Prefect server, in-process worker, first admin user")
    serve.add_argument("--with-worker", action="store_true", help="run a worker thread inside the API process")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="fire due timers and run service jobs as Prefect flow runs").set_defaults(
        func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("deploy", help="deploy the BPMN/DMN files and print the versions").set_defaults(func=cmd_deploy)
    mail = sub.add_parser("mail", help="mail").add_subparsers(dest="mail_command", required=True)
    test_mail = mail.add_parser("test", help="send a test mail through the outbox now (checks the SMTP settings)")
    test_mail.add_argument("to")
    test_mail.add_argument("--language", choices=["de", "en"], default="de")
    test_mail.set_defaults(func=cmd_mail_test)
    users.add_parser(sub)
    return parser


# One-shot commands print their result and nothing else; serve and worker log what an operator needs.
ONE_SHOT_COMMANDS = {"user", "migrate", "deploy", "mail"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = "KONTOR_" + "_".join(str(part) for part in error["loc"][:1]).upper()
            print(f"kontor: invalid settings: {field}: {error['msg']}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"kontor: invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, one_shot=args.command in ONE_SHOT_COMMANDS)
    if getattr(args, "host", None) is None and hasattr(args, "host"):
        args.host = settings.api_host
    if getattr(args, "port", None) is None and hasattr(args, "port"):
        args.port = settings.api_port
    return args.func(settings, args)


if __name__ == "__main__":
    raise SystemExit(main())
