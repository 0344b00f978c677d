"""The orders module: an accepted offer becomes an order."""
from __future__ import annotations

from domain.orders import models, wiring
from domain.orders.models import ORDER_NUMBERS
from kernel.module import Module

MODULE = Module(
    name="orders",
    package="domain.orders",
    public=("models", "commands", "deliveries", "progress", "billing", "module", "delivery_task"),
    models=(models,),
    wire=wiring.register,
    number_series=(ORDER_NUMBERS,),
    routers=("api.routers.orders:router",),
    trace_kinds=("order_created", "order_progressed"),
    trace_texts=(("order_created", "Auftrag {order} aus Angebot {offer} ({total})",
                  "order {order} from offer {offer} ({total})"),
                 ("order_progressed", "Auftrag {order}: {state} ({reason})", "order {order}: {state} ({reason})")),
    customer_trace_kinds=("order_created",),
)
