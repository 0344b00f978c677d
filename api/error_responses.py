"""The error answers of every operation, declared in the OpenAPI document in one place.

Each operation gets the statuses it can answer, all in the one error shape (`ErrorOut`), from what
its route is: who may call it (its dependencies), what it reads (path, query, body) and whether it
writes. A route that knows better declares a status itself with `responses=`; that declaration is kept.
"""
from __future__ import annotations

from typing import Any, get_args

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from api.deps import current_principal, oauth2
from api.versioning import is_version_precondition

REF = "#/components/schemas/"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that check a password, counted as logins (domain.login_throttle)
CHECK_PASSWORDS = {"/api/v1/me/password"}


class ErrorDetail(BaseModel):
    field: str = Field(description="the field, parameter or header at fault")
    message: str


class ErrorBody(BaseModel):
    """Some errors add keys of their own (e.g. `task_state`)."""
    model_config = ConfigDict(extra="allow")
    code: str = Field(description="what went wrong, for programs: e.g. not_found, conflict, validation_failed")
    message: str = Field(description="what went wrong, for people")
    details: list[ErrorDetail] = Field(description="one entry per field at fault (may be empty)")


class ErrorOut(BaseModel):
    """The shape of every error answer."""
    error: ErrorBody


def _seconds_header(description: str) -> dict:
    return {"Retry-After": {"description": description, "required": True,
                            "schema": {"type": "integer", "minimum": 0}}}


ERRORS: dict[int, dict[str, Any]] = {
    400: {"description": "The body cannot be read: no UTF-8 text, or a broken form"},
    401: {"description": "No valid bearer token (at the token route: a wrong user name or password)",
          "headers": {"WWW-Authenticate": {"description": "the scheme to authenticate with", "required": True,
                                           "schema": {"type": "string", "enum": ["Bearer"]}}}},
    403: {"description": "The caller's roles, or their relation to the record, do not allow this; or the "
                         "caller's one-time password must be changed first (POST /me/password)"},
    404: {"description": "The record, or one the request names, does not exist or is not visible to the caller"},
    409: {"description": "The request clashes with the current state: the record changed meanwhile (send the "
                         "version you read), a race was lost, or a request with the same Idempotency-Key is "
                         "still running"},
    412: {"description": "If-Match names another version of the record than the current one (or no version "
                         "of it): it changed meanwhile; GET it again",
          "headers": {"ETag": {"description": "the record's current ETag", "required": False,
                               "schema": {"type": "string"}}}},
    413: {"description": "The request body is larger than allowed"},
    415: {"description": "The body is not of the media type the operation takes (the login is a form post: "
                         "application/x-www-form-urlencoded)"},
    422: {"description": "The request is not valid; `details` names each field at fault"},
    428: {"description": "The change names no version: send `version` from your GET in the body, or its ETag in "
                         "If-Match (RFC 6585)"},
    429: {"description": "Too many failed logins; try again later",
          "headers": _seconds_header("seconds to wait before the next attempt")},
    503: {"description": "The database is busy or unavailable; try again",
          "headers": _seconds_header("seconds to wait before trying again")},
}


def _calls(dependant: Dependant) -> set:
    found = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def needs_token(route) -> bool:
    """Whether the route answers only a bearer token's holder (it depends on current_principal)."""
    dependant = getattr(route, "dependant", None)
    return dependant is not None and current_principal in _calls(dependant)


def _has_params(dependant: Dependant) -> bool:
    return bool(dependant.path_params or dependant.query_params or dependant.header_params
                or dependant.cookie_params or dependant.body_params) or any(map(_has_params, dependant.dependencies))


def _names_records(fields: dict) -> bool:
    """An integer id in the path, or a parameter or field that names a record by its integer id."""
    return any((name == "id" or name.endswith("_id")) and int in (get_args(annotation) or (annotation,))
               for name, annotation in fields.items())


def _parameter_fields(route) -> dict:
    """Path and query parameters, also those of the route's dependencies."""
    def collect(dependant: Dependant) -> dict:
        found = {p.name: p.field_info.annotation for p in (*dependant.path_params, *dependant.query_params)}
        for sub in dependant.dependencies:
            found.update(collect(sub))
        return found
    return collect(route.dependant)


def _body_fields(route) -> dict:
    if route.body_field is None:
        return {}
    annotation = route.body_field.field_info.annotation
    return {name: field.annotation for model in get_args(annotation) or (annotation,)
            for name, field in getattr(model, "model_fields", {}).items()}


def error_statuses(route, method: str, token_url: str) -> set[int]:
    """The error statuses that this route (an APIRoute as included in the app) can answer to `method`."""
    calls = _calls(route.dependant)
    statuses = {503}
    if current_principal in calls:
        statuses |= {401, 403}  # 403 also for a one-time password not yet changed
    if route.path == token_url:
        statuses |= {401, 415, 429}
    if route.path in CHECK_PASSWORDS:
        statuses.add(429)
    if _names_records(_parameter_fields(route)) or _names_records(_body_fields(route)):
        statuses.add(404)
    if method in WRITE_METHODS and route.path != token_url:
        statuses |= {409, 422}  # the Idempotency-Key: still running, or reused for another request
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if _has_params(route.dependant):
        statuses.add(422)
    for call in calls:
        if is_version_precondition(call):
            statuses |= {409, 412} | ({428} if call.version_required else set())
    return statuses


def _error_schema(document: dict) -> dict:
    """ErrorOut and its parts as components of the document; the reference to it."""
    schema = ErrorOut.model_json_schema(ref_template=f"{REF}{{model}}")
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components[ErrorOut.__name__] = schema
    return {"$ref": f"{REF}{ErrorOut.__name__}"}


def _is_fastapis_validation_answer(response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref") == f"{REF}HTTPValidationError"


def declare_error_responses(document: dict, routes) -> None:
    """Adds the error answers of every operation to the OpenAPI `document` of the app with `routes`."""
    token_url = oauth2.model.flows.password.tokenUrl
    reference = _error_schema(document)
    for context in iter_route_contexts(routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        for method in context.methods - {"HEAD", "OPTIONS"}:
            responses = document["paths"][context.path_format][method.lower()]["responses"]
            for status in sorted(error_statuses(context, method, token_url)):
                declared = responses.get(str(status))
                if declared is not None and not _is_fastapis_validation_answer(declared):
                    continue  # the route said what it answers
                responses[str(status)] = {**ERRORS[status], "content": {"application/json": {"schema": reference}}}
    components = document["components"]["schemas"]
    if f"{REF}HTTPValidationError" not in str(document["paths"]):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
