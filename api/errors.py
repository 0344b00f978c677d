"""One error shape for every failure: {"error": {"code", "message", "details": [{"field", "message"}], ...}}."""
from __future__ import annotations

import logging
import sqlite3

import psycopg
from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.versioning import stale_answer
from kernel.errors import KontorError, RetryLater, StaleVersion
from kernel.transient import is_transient_database_error

log = logging.getLogger("kontor.api")
# the message of a request that does not fit the OpenAPI document (a business rule says what it checks)
REQUEST_NOT_VALID = "the request is not valid"
UNAVAILABLE = "the database is busy or unavailable; try again"
RETRY_AFTER_SECONDS = 1  # a dropped connection is replaced at once; a busy database clears in moments
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def error_body(code: str, message: str, details: list | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "details": details or [], **extra}}


def _field(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def _message(error: dict) -> str:
    """pydantic's message, but for a pattern no rule put in words: never the regular expression."""
    if error.get("type") == "string_pattern_mismatch" and "pattern" in (error.get("ctx") or {}):
        return "does not have the expected form (the API document shows it)"
    return error.get("msg", "invalid")


def _position(text, offset: int) -> str:
    """'line L, column C' of a character offset in the body (both counted from 1)."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8", "replace")
    before = (text or "")[:offset] if isinstance(text, str) else ""
    return f"line {before.count(chr(10)) + 1}, column {offset - (before.rfind(chr(10)) + 1) + 1}"


def _unreadable_json(exc: RequestValidationError) -> JSONResponse | None:
    """A body that does not parse as JSON: what the parser said and where, not a field named by its offset."""
    broken = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if not broken:
        return None
    error = broken[0]
    offset = error.get("loc", ("body", 0))[-1]
    reason = (error.get("ctx") or {}).get("error", "it does not parse")
    where = ""
    if isinstance(offset, int):  # "Expecting value at line 1, column 9"; "... starting at line 1, column 9"
        where = f"{'' if reason.endswith(' at') else ' at'} {_position(exc.body, offset)}"
    message = f"the request body is not valid JSON: {reason}{where}"
    return JSONResponse(error_body("invalid_json", message, [{"field": "body", "message": message}]),
                        status_code=400)


def _unauthenticated_first(request: Request) -> JSONResponse | None:
    """FastAPI reads and checks the body before the route's dependencies run: without a valid token
    the answer is 401 whatever the body holds, as for every other request (the body's faults are
    told only to who may send it)."""
    from api.deps import authenticated, bearer_token
    from api.error_responses import needs_token

    if not needs_token(request.scope.get("route")):
        return None
    try:
        authenticated(request.app.state.kontor, bearer_token(request.headers.get("authorization")))
    except StarletteHTTPException as refused:
        return JSONResponse(error_body("unauthenticated", str(refused.detail)), status_code=refused.status_code,
                            headers=getattr(refused, "headers", None))
    return None


def _form_sent_as_json(request: Request) -> JSONResponse | None:
    """An operation that takes a form (the login) sent anything else, e.g. JSON: say what it takes."""
    route = request.scope.get("route")
    body = getattr(route, "body_field", None)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body is None or not isinstance(body.field_info, params.Form) or content_type in FORM_TYPES:
        return None
    fields = getattr(body.field_info.annotation, "model_fields", {})
    required = " and ".join(name for name, field in fields.items() if field.is_required()) or "its fields"
    message = (f"this operation takes a form post: send {required} as application/x-www-form-urlencoded "
               f"(the request came as {content_type or 'no body'})")
    return JSONResponse(error_body("unsupported_media_type", message), status_code=415)


def allowed_methods(request: Request) -> list[str]:
    """Every method of the request's path, as the OpenAPI document has it: a path with fewer parameters
    takes precedence (/opportunities/pipeline is not /opportunities/{opportunity_id})."""
    by_parameters: dict[int, set[str]] = {}
    for route in iter_route_contexts(request.app.routes):
        if route.matches(request.scope)[0] != Match.NONE:
            parameters = (route.path_format or "").count("{")
            by_parameters.setdefault(parameters, set()).update(route.methods or ())
    return sorted(by_parameters[min(by_parameters)]) if by_parameters else []


def method_not_allowed(request: Request) -> JSONResponse:
    allowed = ", ".join(allowed_methods(request))
    return JSONResponse(error_body("method_not_allowed", f"this path has no {request.method}, only {allowed}"),
                        status_code=405, headers={"Allow": allowed})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KontorError)
    async def _kontor_error(request: Request, exc: KontorError):
        headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RetryLater) else None
        status, code = exc.status, exc.code
        if isinstance(exc, StaleVersion):  # 412 when the caller named its version by If-Match
            status, code, headers = stale_answer(request, exc.current)
        return JSONResponse(error_body(code, exc.message, exc.details, **exc.extra), status_code=status,
                            headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()) and \
                request.method not in allowed_methods(request):
            return method_not_allowed(request)  # a path parameter matched a fixed segment of another path
        answer = _unauthenticated_first(request) or _form_sent_as_json(request) or _unreadable_json(exc)
        if answer is not None:
            return answer
        details = [{"field": _field(e.get("loc", ())), "message": _message(e)} for e in exc.errors()]
        return JSONResponse(error_body("validation_failed", REQUEST_NOT_VALID, details), status_code=422)

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _exc: StaleDataError):
        return JSONResponse(error_body("conflict", "the record was changed by someone else at the same time; "
                                                   "reload and try again"), status_code=409)

    async def _database(_request: Request, exc: Exception):
        if is_transient_database_error(exc):
            return unavailable(exc)
        return unexpected(exc)

    for database_error in (DBAPIError, PoolTimeout, DisconnectionError, psycopg.Error, sqlite3.Error):
        app.add_exception_handler(database_error, _database)

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError):
        # The request's validation should have caught it; the database refused a value it cannot hold.
        log.warning("database refused a value: %s", exc.orig)
        return JSONResponse(error_body("validation_failed", "a value is out of range or not storable"),
                            status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError):
        # The domain checks first; two requests racing for the same unique value end here.
        log.warning("integrity error: %s", exc.orig)
        return JSONResponse(error_body("conflict", "the change clashes with data stored meanwhile; reload and try "
                                                   "again"), status_code=409)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:  # the router's Allow names only the first route of the path
            return method_not_allowed(request)
        codes = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found"}
        return JSONResponse(error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        # also what a middleware raised (Starlette's outermost handler): the idempotency records' errors
        return unavailable(exc) if is_transient_database_error(exc) else unexpected(exc)


def unavailable(exc: BaseException) -> JSONResponse:
    """503 with Retry-After: a passing database error (kernel.transient); the request may be sent again."""
    log.error("database unavailable: %s", exc)
    return JSONResponse(error_body("unavailable", UNAVAILABLE), status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def unexpected(exc: BaseException) -> JSONResponse:
    log.error("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "an unexpected error occurred; it has been logged"),
                        status_code=500)
