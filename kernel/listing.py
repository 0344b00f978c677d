"""Lists of records: sort by a whitelisted field (id breaks ties, so pages are stable), count and page."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kernel.errors import ValidationFailed


def sorted_page(session: Session, statement: Select, sort: str, allowed: dict, tiebreak, limit: int,
                offset: int) -> tuple[list, int]:
    """`sort` is a field name, '-' in front for descending; `allowed` maps names to columns."""
    descending = sort.startswith("-")
    column = allowed.get(sort.lstrip("-"))
    if column is None:
        raise ValidationFailed("unknown sort field", [{"field": "sort", "message": f"one of {', '.join(sorted(allowed))}, "
                                                                                   "'-' in front for descending"}])
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    order = [column.desc(), tiebreak.desc()] if descending else [column.asc(), tiebreak.asc()]
    rows = session.scalars(statement.order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), total


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list: `sort` as for sorted_page, then limit and offset."""
    sort: str
    limit: int = 50
    offset: int = 0


def page_of(session: Session, statement: Select, page: PageRequest, allowed: dict, tiebreak) -> tuple[list, int]:
    return sorted_page(session, statement, page.sort, allowed, tiebreak, page.limit, page.offset)


def page_of_list(items: list, page: PageRequest) -> tuple[list, int]:
    """A page of a list computed in memory (ranked candidates), in its own order."""
    return items[page.offset:page.offset + page.limit], len(items)


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds `text` anywhere, with LIKE's wildcards taken literally (escape '\\')."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
