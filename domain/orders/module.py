"""The orders module: an accepted offer becomes an order."""
from __future__ import annotations

from domain.orders import models, wiring
from domain.orders.models import ORDER_NUMBERS
from kernel.module import Module

MODULE = Module(
    name="orders",
    package="domain.orders",
    public=("models", "commands", "module"),
    models=(models,),
    wire=wiring.register,
    number_series=(ORDER_NUMBERS,),
    routers=("api.routers.orders:router",),
    trace_kinds=("order_created",),
    trace_texts=(("order_created", "Auftrag {order} aus Angebot {offer} ({total})",
                  "order {order} from offer {offer} ({total})"),),
    customer_trace_kinds=("order_created",),
)
