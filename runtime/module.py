"""The process runtime as a module: its tables (deployments, instances, what waits, jobs, the
audit trail, workers, offline runs, the stored answers of idempotent requests) and the generic
process API for ops and integrations."""
from __future__ import annotations

from kernel.module import Module
from runtime import idempotency, models, offline_runs, workers
from runtime.settings import RuntimeSettings

MODULE = Module(
    name="processes",
    settings=RuntimeSettings,
    models=(models, workers, offline_runs, idempotency),
    routers=("api.routers.definitions:router", "api.routers.instances:router", "api.routers.tasks:router",
             "api.routers.messages:router", "api.routers.incidents:router", "api.routers.timers:router",
             "api.routers.offline_runs:router"),
)
