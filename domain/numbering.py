"""Gapless number series (customers V-000012, offers OFF-2026-0012, invoices …).

A number is taken inside the transaction that creates the record: the series row is locked until
that transaction ends, so a rollback gives the number back and no two records share one."""
from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base, dialect_insert

# series key -> (prefix, digits); a series with {year} in its prefix restarts every year.
SERIES = {
    "customer": ("V-", 6),
    "offer": ("OFF-{year}-", 4),
    "order": ("ORD-{year}-", 4),
}


class NumberSeries(Base):
    __tablename__ = "number_series"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)  # e.g. "customer", "offer:2026"
    last_value: Mapped[int] = mapped_column(default=0)


def next_number(session: Session, series: str, year: int | None = None) -> str:
    prefix, digits = SERIES[series]
    key = f"{series}:{year}" if "{year}" in prefix else series
    session.execute(dialect_insert(session, NumberSeries).values(key=key, last_value=0)
                    .on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalar(select(NumberSeries).where(NumberSeries.key == key).with_for_update())
    row.last_value += 1
    session.flush()
    return f"{prefix.format(year=year)}{row.last_value:0{digits}d}"
