"""Path and query parameters shared by the routers, bounded so that no number reaches the database
that its columns cannot hold (a 4xx with the field, never a 500)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from domain.listing import PageRequest

MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's id")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]
Priority = Annotated[int | None, Query(ge=0, le=1000)]


def paging(default_sort: str, *fields: str):
    """The sort/limit/offset query parameters of a list, as one PageRequest; `fields` documents the
    sort fields (the domain checks them, answering 422 for others)."""
    described = ", ".join(fields) if fields else default_sort.lstrip("-")
    sort_parameter = Annotated[str, Query(max_length=30, description=f"one of {described}; '-' in front for "
                                                                     "descending")]

    def params(sort=default_sort, limit=50, offset=0) -> PageRequest:
        return PageRequest(sort, limit, offset)
    # real objects, not the strings of postponed evaluation: FastAPI could not resolve the local one
    params.__annotations__ = {"sort": sort_parameter, "limit": Limit, "offset": Offset, "return": PageRequest}
    return Annotated[PageRequest, Depends(params)]
