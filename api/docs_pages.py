"""The API documentation page (/docs, Swagger UI) served from Kontor itself.

FastAPI's own pages load Swagger UI and ReDoc from a CDN; Kontor never does: the assets come from the
pinned `fastapi-offline` package (its bundled Swagger UI build only, not its app class) and are
served under /docs-assets. There is no /redoc: ReDoc's page fetches its logo from its vendor's CDN.
The page (and its OAuth2 redirect page) carries its own Content-Security-Policy: scripts only from
Kontor and the page's own inline start-up script by hash, requests only to Kontor, no framing. The
validator badge (which would call validator.swagger.io) is off."""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
# Swagger UI sets style attributes and injects <style> elements at run time, so styles may be inline.
# Nothing else may load or run.
POLICY = ("default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
          "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    """The page with a policy that admits exactly its own inline scripts (by SHA-256)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
                      for script in INLINE_SCRIPT.findall(page.body))
    page.headers["content-security-policy"] = POLICY.format(scripts=hashes).replace("  ", " ")
    return page


def install_docs_pages(app: FastAPI, docs_url: str = "/docs") -> None:
    """Serve the documentation page of `app` (created with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    redirect_url = f"{docs_url}/oauth2-redirect"
    title = app.title

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _with_policy(get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{title} – API", oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False}))

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return _with_policy(get_swagger_ui_oauth2_redirect_html())
