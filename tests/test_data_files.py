"""The data folder is private (kernel/private_files.py): the SQLite file with its -wal and -shm, the
signing secret and the stored documents are created 0600 in a 0700 folder whatever the umask, and
found looser at start they are tightened. Kontor started on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

from kernel.documents import DocumentStore
from kontor.bootstrap import bootstrap
from kontor.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def start(database_url: str, data_dir: Path):
    """Kontor on this database with its data in data_dir (SQLite: its own file in there)."""
    url = None if database_url.startswith("sqlite") else database_url
    settings = Settings(database_url=url, data_dir=data_dir)
    kontor = bootstrap(settings, deploy=False)
    settings.signing_key()
    with kontor.engine.connect() as connection:  # SQLite makes its -wal and -shm files on first use
        connection.exec_driver_sql("SELECT 1")
        sqlite_modes = {path.name: mode(path) for path in data_dir.glob("kontor.sqlite3*")}
    return kontor, sqlite_modes


def test_data_files_are_created_private(database_url, tmp_path):
    data_dir = tmp_path / "new" / "data"
    with umask(0):
        kontor, sqlite_modes = start(database_url, data_dir)
        try:
            digest = DocumentStore.under(data_dir).put(b"%PDF-1.7 private")
        finally:
            kontor.dispose()
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "secret_key") == 0o600
    stored = DocumentStore.under(data_dir).path(digest)
    assert (mode(stored), mode(stored.parent), mode(data_dir / "documents")) == (0o600, 0o700, 0o700)
    if database_url.startswith("sqlite"):
        assert {"kontor.sqlite3", "kontor.sqlite3-wal", "kontor.sqlite3-shm"} <= set(sqlite_modes), sqlite_modes
        assert sqlite_modes == {name: 0o600 for name in sqlite_modes}


def test_looser_data_files_are_tightened_at_start(database_url, tmp_path):
    data_dir = tmp_path / "data"
    kontor, _ = start(database_url, data_dir)
    store = DocumentStore.under(data_dir)
    stored = store.path(store.put(b"%PDF-1.7 old"))
    kontor.dispose()
    if database_url.startswith("sqlite"):  # as a crash leaves them
        for suffix in ("-wal", "-shm"):
            (data_dir / f"kontor.sqlite3{suffix}").write_bytes(b"")
    loose = [data_dir, data_dir / "documents", stored.parent, stored, data_dir / "secret_key",
             *data_dir.glob("kontor.sqlite3*")]
    for path in loose:
        path.chmod(0o777 if path.is_dir() else 0o644)
    (data_dir / "initial-admin-password").write_text("old\n")
    (data_dir / "initial-admin-password").chmod(0o604)
    kontor = bootstrap(Settings(database_url=None if database_url.startswith("sqlite") else database_url,
                                data_dir=data_dir), run_migrations=False, deploy=False)
    kontor.dispose()
    for path in [*loose, data_dir / "initial-admin-password"]:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
