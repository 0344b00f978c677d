"""Path and query parameters shared by the routers, bounded so that no number reaches the database
that its columns cannot hold (a 4xx with the field, never a 500)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query
from pydantic import ValidationError, WrapValidator

from domain.fields import Day, UtcDatetime
from kernel.listing import PageRequest

MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's id")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]
Priority = Annotated[int | None, Query(ge=0, le=1000)]
# Filters by a point in time or a day: RFC 3339 text only, never numbers (see domain.fields)
DateTimeFilter = Annotated[UtcDatetime | None, Query(description="RFC 3339 date and time with its offset, e.g. "
                                                                 "2030-01-02T09:00:00+01:00")]
DayFilter = Annotated[Day | None, Query(description="a day, YYYY-MM-DD")]


def sort_by(*fields: str):
    """The `sort` query parameter of a list: one of `fields`, '-' in front for descending."""
    values = tuple(f"{sign}{field}" for field in fields for sign in ("", "-"))
    described = f"one of {', '.join(fields)}; '-' in front for descending"

    def check(value, parse):
        try:
            return parse(value)
        except ValidationError:
            raise ValueError(described) from None
    return Annotated[Literal[values], WrapValidator(check), Query(description=described)]


def paging(default_sort: str, *fields: str):
    """The sort/limit/offset query parameters of a list, as one PageRequest; `fields` are the sort
    fields (default: the default sort's)."""
    sort_parameter = sort_by(*(fields or (default_sort.lstrip("-"),)))

    def params(sort=default_sort, limit=50, offset=0) -> PageRequest:
        return PageRequest(sort, limit, offset)
    # real objects, not the strings of postponed evaluation: FastAPI could not resolve the local one
    params.__annotations__ = {"sort": sort_parameter, "limit": Limit, "offset": Offset, "return": PageRequest}
    return Annotated[PageRequest, Depends(params)]
