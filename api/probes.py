"""Liveness and readiness for orchestrators, outside /api/v1 and its document, without login.
`/health`: the process answers (no dependency is touched). `/ready`: 200 when every dependency is up,
503 otherwise; either way the body names each dependency with "up" or "down" and nothing else
(kontor.readiness). `/healthz` is the older name of `/health`."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from kontor.readiness import Readiness

NO_STORE = {"Cache-Control": "no-store"}


def install_probes(app: FastAPI, kontor) -> None:
    readiness = Readiness(kontor)

    @app.get("/health", include_in_schema=False)
    @app.get("/healthz", include_in_schema=False)
    def health():
        return JSONResponse({"status": "ok"}, headers=NO_STORE)

    @app.get("/ready", include_in_schema=False)
    def ready():
        ok, checks = readiness()
        return JSONResponse({"status": "ready" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503, headers=NO_STORE)
