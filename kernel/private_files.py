"""Kontor's data folder holds what nobody else on the machine may read: the SQLite database (and
its -wal/-shm files), the token signing secret, the first admin's password and the stored
documents. They are created private (files 0600, folders 0700, whatever the umask) and, at every
start, tightened when found looser (a data folder from an older version, a copied backup)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path) -> Path:
    """The folder, created 0700 (missing parents too) or tightened to it."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            pass
    tighten(path, FOLDER_MODE)
    return path


def tighten(path: Path, mode: int) -> None:
    """Take away every permission beyond `mode` (none is added); nothing if the path is missing."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        path.chmod(current & mode)


def create_private_file(path: Path, content: bytes = b"") -> bool:
    """Create the file 0600 with this content, unless it exists (False then; it is tightened instead)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path, FILE_MODE)
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return True


def sqlite_file(path: Path) -> None:
    """Before SQLite opens it: the database file exists 0600, so that SQLite creates its -wal and
    -shm files with the same mode; companions left from before are tightened."""
    if not path.parent.exists():
        private_folder(path.parent)
    create_private_file(path)
    for suffix in SQLITE_COMPANIONS:
        tighten(path.with_name(path.name + suffix), FILE_MODE)


def tighten_tree(root: Path) -> None:
    """Every folder below root 0700 at most, every file 0600 at most (the document store)."""
    if not root.is_dir():
        return
    tighten(root, FOLDER_MODE)
    for folder, folders, files in os.walk(root):
        for name in folders:
            tighten(Path(folder, name), FOLDER_MODE)
        for name in files:
            tighten(Path(folder, name), FILE_MODE)


def secure_data_folder(data_dir: Path, sqlite_path: Path | None) -> None:
    """At start: the data folder private, and everything Kontor keeps in it."""
    private_folder(data_dir)
    for name in ("secret_key", "initial-admin-password"):
        tighten(data_dir / name, FILE_MODE)
    tighten_tree(data_dir / "documents")
    if sqlite_path is not None:
        sqlite_file(sqlite_path)
