"""Gapless number series (customers V-000012, offers OFF-2026-0012, invoices …).

Each module declares its series (kernel.module.NumberSeries) beside its model. A number is
taken inside the transaction that creates the record: the series row is locked until
that transaction ends, so a rollback gives the number back and no two records share one."""
from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel import module
from kernel.db import Base, dialect_insert


class NumberSeries(Base):
    __tablename__ = "number_series"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)  # e.g. "customer", "offer:2026"
    last_value: Mapped[int] = mapped_column(default=0)


def next_number(session: Session, series: module.NumberSeries, year: int | None = None) -> str:
    if series.yearly and year is None:
        raise ValueError(f"the {series.key} series restarts every year: give the year")
    prefix, digits = series.prefix, series.digits
    key = f"{series.key}:{year}" if series.yearly else series.key
    session.execute(dialect_insert(session, NumberSeries).values(key=key, last_value=0)
                    .on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalar(select(NumberSeries).where(NumberSeries.key == key).with_for_update())
    row.last_value += 1
    session.flush()
    return f"{prefix.format(year=year)}{row.last_value:0{digits}d}"
