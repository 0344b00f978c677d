"""Rounds of background work that ran without a Prefect flow run, because Prefect could not be
reached: one row per round (kind, worker, started, finished, what it did, why it ran outside
Prefect, the error if the work itself failed). A row stays unreported until a "report-offline-runs"
flow run, once Prefect answers again, has put it into Prefect's log; ops see them at
`GET /api/v1/offline-runs` either way. No Prefect import here: the API reads this table too."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, Index, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base
from kernel.clock import utcnow

PREFECT_UNREACHABLE = "Prefect unreachable"
KEEP_REPORTED_DAYS = 90  # reported rows older than this are deleted by the next report
REPORT_LIMIT = 5000  # rows per report flow run; more are reported by the next rounds' reports


class OfflineRun(Base):
    __tablename__ = "offline_run"
    __table_args__ = (Index("ix_offline_run_unreported", "reported_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # service-jobs, timers, outbox, mailboxes, housekeeping
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    summary: Mapped[dict | None] = mapped_column(JSON)  # the round's counts (a dict, list or number)
    reason: Mapped[str] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)  # the work itself failed (what a failed flow run would show)
    reported_at: Mapped[datetime | None]
    report_flow_run_id: Mapped[str | None] = mapped_column(String(36))


@dataclass(frozen=True)
class Gap:
    """What a report covers: the rows, and per kind the rounds, the first start and the last finish."""
    runs: list[OfflineRun]

    def by_kind(self) -> dict[str, dict]:
        kinds: dict[str, dict] = {}
        for run in self.runs:
            entry = kinds.setdefault(run.kind, {"rounds": 0, "failed": 0, "from": run.started_at,
                                                "to": run.finished_at, "totals": {}})
            entry["rounds"] += 1
            entry["failed"] += run.error is not None
            entry["from"] = min(entry["from"], run.started_at)
            entry["to"] = max(entry["to"], run.finished_at)
            for name, value in _numbers(run.summary).items():
                entry["totals"][name] = entry["totals"].get(name, 0) + value
        return kinds


def _numbers(summary) -> dict[str, int]:
    """The counts of a round's summary that add up across rounds (lags and the like do not)."""
    if isinstance(summary, bool) or summary is None:
        return {}
    if isinstance(summary, int):
        return {"count": summary}
    if isinstance(summary, list):
        return {"mailboxes": len(summary)}
    return {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}


def record_offline_run(session: Session, kind: str, worker: str, started_at: datetime, summary,
                       reason: str = PREFECT_UNREACHABLE, error: str | None = None) -> OfflineRun:
    run = OfflineRun(kind=kind, worker=worker[:200], started_at=started_at, finished_at=utcnow(),
                     summary=summary, reason=reason[:200], error=error)
    session.add(run)
    session.flush()
    return run


def has_unreported(session: Session) -> bool:
    return session.scalar(select(OfflineRun.id).where(OfflineRun.reported_at.is_(None)).limit(1)) is not None


def claim_for_report(session: Session, flow_run_id: str, limit: int = REPORT_LIMIT) -> Gap:
    """Take up to `limit` unreported rows for this report (a conditional update: two workers that
    both see Prefect return report each row once) and delete long-reported ones."""
    ids = list(session.scalars(select(OfflineRun.id).where(OfflineRun.reported_at.is_(None))
                               .order_by(OfflineRun.id).limit(limit)))
    now = utcnow()
    if ids:
        session.execute(update(OfflineRun).where(OfflineRun.id.in_(ids), OfflineRun.reported_at.is_(None))
                        .values(reported_at=now, report_flow_run_id=flow_run_id))
    session.execute(delete(OfflineRun).where(OfflineRun.reported_at < now - timedelta(days=KEEP_REPORTED_DAYS)))
    runs = list(session.scalars(select(OfflineRun).where(OfflineRun.report_flow_run_id == flow_run_id)
                                .order_by(OfflineRun.id)))
    return Gap(runs)


def list_offline_runs(session: Session, unreported_only: bool, limit: int, offset: int):
    query = select(OfflineRun)
    if unreported_only:
        query = query.where(OfflineRun.reported_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    return list(session.scalars(query.order_by(OfflineRun.id.desc()).limit(limit).offset(offset))), total
