"""Optimistic locking over HTTP, for every record that carries a `version` (customers, contacts,
leads, opportunities, products, offers).

A GET of such a record answers with an `ETag` header and the `version` in the body. A change
(PATCH, PUT of an offer's lines) must name the version it was made from: `version` in the body or
`If-Match` with the ETag (RFC 9110 §13.1.1). Without either it is refused with 428 Precondition
Required (RFC 6585): a change that names no version would silently overwrite whatever another user
saved meanwhile. A stale `version` in the body is a 409 (as before); a stale or foreign ETag in
If-Match is a 412 Precondition Failed. Either answer carries the current ETag.

The ETag is strong (`"customer-12-v3"`: the record's kind, id and version): If-Match compares
strongly, so a weak ETag could never match. It stands for the record's version, which every change
of the record moves on; it is not a hash of the bytes sent, whose parts that come from elsewhere
(e.g. an offer's approvals, a portal user's narrower view) may differ between callers."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from pydantic import Field
from sqlalchemy.orm import object_session

from kernel.errors import NOT_SENT, ExpectedVersion, KontorError

VERSION_HELP = ("the version you read (or send `If-Match` with the ETag instead): a PATCH or PUT that names "
                "neither is refused with 428; a stale one is refused with 409")
IF_MATCH_HELP = ("the ETag of the version you read (from GET); 412 if the record changed meanwhile. "
                 "Alternative to `version` in the body")
# `version` in the body of a change (None: not sent; then If-Match must name it)
Version = Annotated[int | None, Field(ge=1, le=2**31 - 1, description=VERSION_HELP)]
_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


class PreconditionFailed(KontorError):
    status = 412
    code = "precondition_failed"


def etag(kind: str, record_id: int, version: int) -> str:
    return f'"{kind}-{record_id}-v{version}"'


def set_etag(response: Response, kind: str, record: Any) -> Any:
    """Put the record's ETag on the answer; returns the record (for `return set_etag(...)`). A record
    changed in this request is written first: its version moves on when it is flushed."""
    session = object_session(record)
    if session is not None and record in session.dirty:
        session.flush()
    response.headers["ETag"] = etag(kind, record.id, record.version)
    return record


def parse_if_match(value: str) -> list[tuple[bool, str]]:
    """The entity tags of an If-Match header: (weak, opaque tag) each; `*` is [(False, "*")]. A header
    that is no list of entity tags names no tag (none can match: 412)."""
    if value.strip() == "*":
        return [(False, "*")]
    tags, position = [], 0
    while position < len(value):
        found = _TAG.match(value, position)
        if found is None or found.end() == position:
            return []
        tags.append((found.group(1) is not None, found.group(2)))
        position = found.end()
    return tags


@dataclass
class Precondition:
    """What a change says about the version it was made from; `expected(body_version)` gives the
    version the domain checks against the record (kernel.errors.require_version)."""
    kind: str
    record_id: int
    if_match: str | None
    required: bool
    request: Request

    def expected(self, body_version: int | None) -> ExpectedVersion:
        if self.if_match is not None and parse_if_match(self.if_match) == [(False, "*")]:
            # "any version": true for every record there is, so it protects nothing; as if not sent
            self.request.state.version_precondition = self
            return NOT_SENT if self.required and body_version is None else body_version
        from_header = self._from_if_match()
        if from_header is not None and body_version is not None and from_header != body_version:
            raise PreconditionFailed(f"If-Match names version {from_header} of this {self.kind}, the body "
                                     f"version {body_version}: send one of them, or both alike")
        if from_header is not None:
            self.request.state.version_precondition = self  # a stale version is then a 412 (api.errors)
            return from_header
        self.request.state.version_precondition = self
        if body_version is None and self.required:
            return NOT_SENT  # 428 from the domain, once it checked that the caller may change the record
        return body_version

    def _from_if_match(self) -> int | None:
        if self.if_match is None:
            return None
        prefix = f"{self.kind}-{self.record_id}-v"
        versions = {int(tag[len(prefix):]) for weak, tag in parse_if_match(self.if_match)
                    if not weak and tag.startswith(prefix) and _is_number(tag[len(prefix):])}
        if len(versions) != 1:
            raise PreconditionFailed(f"If-Match names no single version of {self.kind} {self.record_id} "
                                     "(weak ETags never match); send the ETag from GET, in double quotes",
                                     [{"field": "If-Match", "message": "not this record's ETag"}])
        return versions.pop()


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) < 10


def version_precondition(kind: str, id_parameter: str, required: bool = True) -> Callable[..., Precondition]:
    """A dependency for a route that changes the record `kind` named by the path parameter
    `id_parameter`: reads If-Match (documented in the operation) for Precondition.expected."""
    def precondition(request: Request, if_match: Annotated[str | None, Header(
            alias="If-Match", max_length=1000, description=IF_MATCH_HELP)] = None) -> Precondition:
        raw = str(request.path_params.get(id_parameter, ""))  # not an id: the route's own validation answers
        return Precondition(kind, int(raw) if _is_number(raw) else 0, if_match, required, request)
    precondition.versioned_kind = kind  # type: ignore[attr-defined]  - api.error_responses: 412 (and 428)
    precondition.version_required = required  # type: ignore[attr-defined]
    return precondition


def versioned(kind: str, id_parameter: str, required: bool = True) -> Any:
    return Annotated[Precondition, Depends(version_precondition(kind, id_parameter, required))]


def is_version_precondition(call: Any) -> bool:
    return getattr(call, "versioned_kind", None) is not None


def stale_answer(request: Request, current: int) -> tuple[int, str, dict[str, str]]:
    """Status, code and headers of the answer to a change made from a stale version: 412 when the
    caller named its version by If-Match, else 409; with the current ETag when the record is known."""
    precondition = getattr(request.state, "version_precondition", None)
    if precondition is None:
        return 409, "conflict", {}
    headers = {"ETag": etag(precondition.kind, precondition.record_id, current)}
    if precondition.if_match is not None:
        return 412, "precondition_failed", headers
    return 409, "conflict", headers
