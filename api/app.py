"""The FastAPI application: thin routers under /api/v1 over the runtime's handlers."""
from __future__ import annotations

import importlib

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from api.body_limit import BodyLimitMiddleware
from api.docs_pages import install_docs_pages
from api.error_responses import declare_error_responses
from api.errors import install_error_handlers
from api.idempotency import IdempotencyMiddleware, declare_idempotency_key
from api.probes import install_probes
from api.security_headers import SecurityHeadersMiddleware
from domain.fields import JSON_VALUE_SCHEMA
from kontor.bootstrap import Kontor


class KontorAPI(FastAPI):
    """FastAPI with two middlewares outside all of FastAPI's own, so that they see every request and
    answer, its 500s included: the security headers (outermost) and the body limit."""

    def build_middleware_stack(self) -> ASGIApp:
        kontor: Kontor = self.state.kontor
        return SecurityHeadersMiddleware(BodyLimitMiddleware(super().build_middleware_stack(), kontor.settings))


def _complete_the_document(app: FastAPI) -> None:
    """The OpenAPI document with what FastAPI cannot see in the routes: the error answers of every
    operation, the Idempotency-Key of every write and the JSON values that process data may hold
    (built once, on first use)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = build()
            declare_error_responses(document, app.routes)
            declare_idempotency_key(document)
            document["components"]["schemas"]["JsonValue"] = JSON_VALUE_SCHEMA
        return app.openapi_schema

    app.openapi = openapi


def _router(name: str) -> APIRouter:
    """"api.routers.offers:router" -> that router."""
    module_name, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "router")


def create_app(kontor: Kontor) -> FastAPI:
    app = KontorAPI(title="Kontor", version="0.1.0", docs_url=None, redoc_url=None,
                    description="Workflow-orchestrated back-office for sales teams. Every write accepts an "
                                "`Idempotency-Key` header; the same key replays the first answer.")
    app.state.kontor = kontor
    v1 = APIRouter(prefix="/api/v1")
    for module in kontor.modules:  # every module's routers, in the modules' order
        for name in module.routers:
            v1.include_router(_router(name))
    app.include_router(v1)
    for module in kontor.modules:  # pages outside the API, e.g. the customer's signed answer link (no login)
        for name in module.public_routers:
            app.include_router(_router(name))

    install_probes(app, kontor)
    install_docs_pages(app)
    _complete_the_document(app)
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware, kontor=kontor)
    return app
