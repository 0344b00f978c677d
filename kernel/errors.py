"""Errors the runtime and the domain raise; the API maps each to one HTTP status."""
from __future__ import annotations


class KontorError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict] | None = None, **extra):
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

    def __init__(self, file: str, element: str, reason: str):
        super().__init__(f"{file}: {element}: {reason}", file=file, element=element, reason=reason)
        self.file, self.element, self.reason = file, element, reason


class RetryLater(KontorError):
    """Refused for now; the answer carries Retry-After with the seconds to wait."""

    def __init__(self, message: str, retry_after_seconds: int, details: list[dict] | None = None, **extra):
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
