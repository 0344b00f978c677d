"""Errors the runtime and the domain raise; the API maps each to one HTTP status."""
from __future__ import annotations

from typing import Any


class KontorError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.extra = extra


class ProcessError(Exception):
    """A script, expression or gateway failed while the engine ran the process (the caller decides
    whether that is the client's fault, a 422, or an incident)."""


class NotFound(KontorError):
    status = 404
    code = "not_found"


class Conflict(KontorError):
    """The request clashes with the current state (a lost race, a finished task, an ambiguous message)."""
    status = 409
    code = "conflict"


class StaleVersion(Conflict):
    """The caller changed a record from a version that is no longer the current one (optimistic
    locking): `version` names the current one. The API answers 409, or 412 when the caller named
    its version by If-Match."""

    def __init__(self, what: str, current: int, expected: int) -> None:
        super().__init__(f"{what} was changed meanwhile (version {current}, you edited {expected}); "
                         "reload and try again", version=current)
        self.current, self.expected = current, expected


class VersionRequired(KontorError):
    """A change that does not say which version of the record it was made from (RFC 6585's 428
    Precondition Required): it could overwrite a change saved meanwhile."""
    status = 428
    code = "precondition_required"


class NotSent:
    """The caller of a change was asked for the version it read and sent none (see require_version)."""

    def __repr__(self) -> str:
        return "NOT_SENT"


NOT_SENT = NotSent()
ExpectedVersion = int | NotSent | None


def require_version(what: str, current: int, expected: ExpectedVersion) -> None:
    """Refuse a change made from another version than `current`, or one whose caller was asked for
    its version and sent none (NOT_SENT). None: the caller is Kontor itself, which reads and changes
    in one transaction. Called after the caller's right to change the record was checked, so that
    who may not change it learns nothing more than that."""
    if isinstance(expected, NotSent):
        raise VersionRequired(f"say which version of {what} you changed: send `version` from your GET in the "
                              "body, or its ETag in If-Match; without it your change could overwrite one saved "
                              "meanwhile", [{"field": "version", "message": "required (or the If-Match header)"}])
    if expected is not None and expected != current:
        raise StaleVersion(what, current, expected)


class Forbidden(KontorError):
    status = 403
    code = "forbidden"


class ValidationFailed(KontorError):
    status = 422
    code = "validation_failed"


class TooLarge(KontorError):
    """Data beyond a documented size limit (process data, a request body, an upload)."""
    status = 413
    code = "payload_too_large"


class SpecError(KontorError):
    """A BPMN or DMN file that does not parse: names the file, the element and the reason."""
    status = 422
    code = "invalid_process_definition"

    def __init__(self, file: str, element: str, reason: str) -> None:
        super().__init__(f"{file}: {element}: {reason}", file=file, element=element, reason=reason)
        self.file, self.element, self.reason = file, element, reason


class RetryLater(KontorError):
    """Refused for now; the answer carries Retry-After with the seconds to wait."""

    def __init__(self, message: str, retry_after_seconds: int, details: list[dict[str, Any]] | None = None,
                 **extra: Any) -> None:
        super().__init__(message, details, **extra)
        self.retry_after_seconds = max(1, int(retry_after_seconds))


class TooManyAttempts(RetryLater):
    """Too many failed logins from this client address or for this account: wait, then try again."""
    status = 429
    code = "too_many_attempts"


class Busy(RetryLater):
    """A limited resource (password hashing) is taken for longer than a request may wait."""
    status = 503
    code = "busy"
