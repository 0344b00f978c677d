"""The accounting module: the DATEV export of bookings (with its settings and its records of what was
handed over) and the charts of accounts it uses."""
from __future__ import annotations

from domain.accounting import models
from domain.accounting.settings import DatevSettings
from kernel.module import Module

MODULE = Module(
    name="accounting",
    package="domain.accounting",
    public=("datev", "charts", "module", "bookings", "exports", "models", "settings"),
    models=(models,),
    settings=DatevSettings,
    routers=("api.routers.datev_exports:router",),
)
