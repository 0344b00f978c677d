"""The sales module: leads, their conversion, opportunities in the pipeline's phases and groups."""
from __future__ import annotations

from domain.sales import models, wiring
from kernel.module import Module

MODULE = Module(
    name="sales",
    package="domain.sales",
    public=("models", "opportunities", "module"),
    models=(models,),
    wire=wiring.register,
    routers=("api.routers.leads:router", "api.routers.opportunities:router",
             "api.routers.opportunities:phases_router", "api.routers.opportunities:groups_router"),
    trace_kinds=("lead_converted", "phase_change", "opportunity_won", "opportunity_lost"),
    trace_texts=(("lead_converted", "Lead ({source}) übernommen: {name}", "lead from {source}: {name}"),),
)
