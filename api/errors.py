"""One error shape for every failure: {"error": {"code", "message", "details": [{"field", "message"}], ...}}."""
from __future__ import annotations

import logging
import sqlite3

import psycopg
from fastapi import FastAPI, Request
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


def error_body(code: str, message: str, details: list | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "details": details or [], **extra}}


def _field(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


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
        details = [{"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors()]
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
