"""What every benchmark needs: a fresh Kontor on a fresh database, timing and statistics."""
from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

BENCH_BPMN_DIR = Path(__file__).parent / "bpmn"
PG_ADMIN_URL = os.environ.get("KONTOR_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DB = os.environ.get("KONTOR_BENCH_PG_DB", "kontor_bench")  # dropped and created by each run


def fresh_database_url(kind: str) -> str:
    """An empty database of this kind: a new SQLite file, or the PostgreSQL bench database recreated."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="kontor-bench-"))
        return f"sqlite:///{folder / 'kontor.sqlite3'}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(PG_BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_BENCH_DB)))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{PG_BENCH_DB}"


def drop_bench_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(PG_BENCH_DB)))


def bench_kontor(kind: str, **overrides):
    """A Kontor on a fresh database with the bench processes deployed beside bpmn/."""
    from kontor.bootstrap import bootstrap, set_current, settle_long_running_process
    from kontor.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="kontor-bench-data-"))
    settings = Settings(database_url=fresh_database_url(kind), data_dir=data_dir,
                        secret_key="bench-secret-" + "x" * 24, bpmn_path=[BENCH_BPMN_DIR], **overrides)
    kontor = bootstrap(settings)
    set_current(kontor)
    settle_long_running_process()  # as `kontor serve` and `kontor worker` do
    return kontor


@contextmanager
def stopwatch():
    """with stopwatch() as elapsed: ...; elapsed() gives the seconds so far (frozen at exit)."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds of durations given in seconds."""
    return {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000, 2),
            "p95_ms": round(percentile(values, 95) * 1000, 2), "p99_ms": round(percentile(values, 99) * 1000, 2),
            "max_ms": round(max(values) * 1000, 2), "mean_ms": round(statistics.fmean(values) * 1000, 2)}


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
