"""Several Kontor processes (API, workers) starting at once on a fresh database migrate and deploy once."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support import create_pg_database, drop_pg_database

KONTOR = Path(sys.executable).with_name("kontor")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_four_processes_starting_together_migrate_and_deploy_once(dialect, tmp_path, worker_id):
    name = f"kontor_startup_{worker_id}_{os.getpid()}"
    url = f"sqlite:///{tmp_path / 'kontor.sqlite3'}" if dialect == "sqlite" else create_pg_database(name)
    try:
        env = {**os.environ, "KONTOR_DATABASE_URL": url, "KONTOR_DATA_DIR": str(tmp_path)}
        processes = [subprocess.Popen([str(KONTOR), "deploy"], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
        for code, out, err in results:
            assert code == 0, err[-2000:]
            assert "demo_request version 1" in out
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM deployment")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM process_definition WHERE process_key = 'demo_request'")
                                ).scalar() == 1
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() is not None
        engine.dispose()
    finally:
        if dialect == "postgresql":
            drop_pg_database(name)
