"""The one wiring point: the API, the flows, the CLI and the tests all build Kontor here."""
from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.documents import DocumentOwners
from domain.passwords import PasswordGate, configure_hashing
from kernel.db import make_engine, make_session_factory, migrate, transaction
from kernel.module import Module
from kernel.private_files import secure_data_folder
from kontor.modules import MODULES
from kontor.settings import Settings
from mailers.compose import MailTemplates
from mailers.routes import MailRoutes
from runtime.runtime import ProcessRuntime


@dataclass
class Kontor:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    runtime: ProcessRuntime
    password_gate: PasswordGate  # how many password hashes this process computes at once
    deployed: list = field(default_factory=list)
    modules: tuple[Module, ...] = MODULES
    # what the modules registered (their `wire`): what mail routing asks of them, their mails'
    # templates, the records that take documents
    mail_routes: MailRoutes = field(default_factory=MailRoutes)
    mail_templates: MailTemplates = field(default_factory=MailTemplates)
    document_owners: DocumentOwners = field(default_factory=DocumentOwners)

    def transaction(self):
        """One unit of work (commit on success, rollback on error)."""
        return transaction(self.sessions)

    def dispose(self) -> None:
        self.engine.dispose()


def wire_modules(kontor: Kontor) -> None:
    """What each module registers once the Kontor is built (operations, guards, task views, mail
    routes, owners of documents), its mail templates, and the processes and messages only its own
    records start and send."""
    for module in kontor.modules:
        kontor.runtime.reserve_for_records(module.processes, module.messages)
        for folder in module.templates:
            kontor.mail_templates.register(folder)
        if module.wire is not None:
            module.wire(kontor)


def bootstrap(settings: Settings | None = None, *, run_migrations: bool = True, deploy: bool = True) -> Kontor:
    from runtime.deployment import deploy as deploy_specs

    settings = settings or Settings()
    configure_hashing(settings.password_hash_time_cost, settings.password_hash_memory_kib,
                      settings.password_hash_parallelism)
    url = settings.resolved_database_url
    secure_data_folder(settings.data_dir, settings.sqlite_path)
    if run_migrations:
        migrate(url)
    engine = make_engine(url)
    kontor = Kontor(settings, engine, make_session_factory(engine), ProcessRuntime(settings),
                    PasswordGate(settings.password_hash_slots, settings.password_hash_wait_seconds))
    wire_modules(kontor)
    if deploy:
        with kontor.transaction() as session:
            kontor.deployed = [(d.process_key, d.version) for d in deploy_specs(session, kontor.runtime,
                                                                               settings.bpmn_dirs)]
    return kontor


YOUNG_COLLECTION_AFTER = 20_000  # allocations (Python's default: 700)


def settle_long_running_process() -> None:
    """For a process that serves for long (`kontor serve`, `kontor worker`), once it has started.
    What starting made (modules, the app, parsed specs, pools) lives as long as the process, so
    the cyclic garbage collector stops walking it (gc.freeze), and it looks at new objects after
    20,000 allocations instead of 700: a step allocates thousands of small objects that die
    young, and a full collection walks every workflow kept in memory. (Measured: 0.2 ms of a
    demonstration lifecycle's 5 ms went to the collector; almost nothing now.)"""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, max(middle, 20), max(old, 20))


_current: Kontor | None = None
_lock = threading.Lock()


def current() -> Kontor:
    """The Kontor of this process (flows use it); built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = bootstrap()
        return _current


def set_current(kontor: Kontor | None) -> None:
    global _current
    with _lock:
        _current = kontor
