"""The catalog module: products, price lists with tiers, customers' special conditions."""
from __future__ import annotations

from domain.catalog import models
from kernel.module import Module

MODULE = Module(
    name="catalog",
    package="domain.catalog",
    public=("models", "queries", "commands", "inputs", "module"),
    models=(models,),
    routers=("api.routers.products:router", "api.routers.price_lists:router",
             "api.routers.price_lists:conditions_router"),
)
