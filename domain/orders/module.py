"""The orders module: an accepted offer becomes an order."""
from __future__ import annotations

from domain.orders import models
from domain.orders.models import ORDER_NUMBERS
from kernel.module import Module

MODULE = Module(
    name="orders",
    package="domain.orders",
    public=("models", "commands", "module"),
    models=(models,),
    number_series=(ORDER_NUMBERS,),
    routers=("api.routers.orders:router",),
    trace_kinds=("order_created",),
    customer_trace_kinds=("order_created",),
)
