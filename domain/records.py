"""The records module: what every business record shares: gapless number series, attached
documents, imports and exports."""
from __future__ import annotations

from domain import documents, numbering
from kernel.module import Module

MODULE = Module(
    name="records",
    models=(numbering, documents),
    routers=("api.routers.documents:router", "api.routers.imports:router", "api.routers.imports:exports_router"),
)
