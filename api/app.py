"""The FastAPI application: thin routers under /api/v1 over the runtime's handlers."""
from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from api.body_limit import BodyLimitMiddleware
from api.docs_pages import install_docs_pages
from api.error_responses import declare_error_responses
from api.errors import install_error_handlers
from api.idempotency import IdempotencyMiddleware, declare_idempotency_key
from api.probes import install_probes
from api.routers import (auth, contacts, customer_records, customers, definitions, documents, imports, inbound_mails,
                         incidents, instances, leads, messages, offer_links, offers, offline_runs, opportunities,
                         orders, outbox, price_lists, products, tasks, timers)
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


def create_app(kontor: Kontor) -> FastAPI:
    app = KontorAPI(title="Kontor", version="0.1.0", docs_url=None, redoc_url=None,
                    description="Workflow-orchestrated back-office for sales teams. Every write accepts an "
                                "`Idempotency-Key` header; the same key replays the first answer.")
    app.state.kontor = kontor
    v1 = APIRouter(prefix="/api/v1")
    for module in (auth, definitions, instances, tasks, messages, incidents, customers, contacts, leads, opportunities,
                   products, price_lists, documents, outbox, inbound_mails, offers, orders, timers, offline_runs):
        v1.include_router(module.router)
    for extra in (customer_records.router, customer_records.activities_router, customer_records.duplicates_router,
                  price_lists.conditions_router, opportunities.phases_router, opportunities.groups_router,
                  imports.router, imports.exports_router):
        v1.include_router(extra)
    app.include_router(v1)
    app.include_router(offer_links.router)  # the customer's signed answer link: no login

    install_probes(app, kontor)
    install_docs_pages(app)
    _complete_the_document(app)
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware, kontor=kontor)
    return app
