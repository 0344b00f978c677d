"""The records module: what every business record shares: gapless number series, attached
documents, imports and exports."""
from __future__ import annotations

from domain import numbering
from domain.settings import CompanySettings
from kernel import documents as stored_documents
from kernel.module import Module

MODULE = Module(
    name="records",
    settings=CompanySettings,  # the letterhead its documents print
    models=(numbering, stored_documents),
    routers=("api.routers.documents:router", "api.routers.imports:router", "api.routers.imports:exports_router"),
)
