"""The one wiring point: the API, the flows, the CLI and the tests all build Kontor here."""
from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.passwords import PasswordGate, configure_hashing
from domain.users import active_principal
from kernel.db import make_engine, make_session_factory, migrate, transaction
from kernel.private_files import secure_data_folder
from kontor.settings import Settings
from mailers.record_access import MailRecords
from runtime.runtime import OperationRegistry, ProcessRuntime


@dataclass
class Kontor:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    runtime: ProcessRuntime
    password_gate: PasswordGate  # how many password hashes this process computes at once
    deployed: list = field(default_factory=list)
    mail_records: MailRecords = field(default_factory=MailRecords)  # who may route a received mail to a record

    def transaction(self):
        """One unit of work (commit on success, rollback on error)."""
        return transaction(self.sessions)

    def dispose(self) -> None:
        self.engine.dispose()


def register_operations(operations: OperationRegistry) -> None:
    """Every service-task operation Kontor offers, by name."""
    from domain import demo_operations

    demo_operations.register(operations)


def register_processes(kontor: Kontor) -> None:
    """The business processes' operations, task guards and task views (they need the Kontor itself)."""
    from domain.offers import wiring as offers

    offers.register(kontor)


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
    operations = OperationRegistry()
    register_operations(operations)
    kontor = Kontor(settings, engine, make_session_factory(engine), ProcessRuntime(settings, operations=operations),
                    PasswordGate(settings.password_hash_slots, settings.password_hash_wait_seconds))
    kontor.runtime.people = active_principal
    register_processes(kontor)
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
