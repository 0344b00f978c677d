"""Path and query parameters shared by the routers, bounded so that no number reaches the database
that its columns cannot hold (a 4xx with the field, never a 500)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's id")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]
Priority = Annotated[int | None, Query(ge=0, le=1000)]
