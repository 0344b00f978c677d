"""The customers module: customers with sites, addresses and contacts, their timeline (traces,
notes, activities) and duplicates."""
from __future__ import annotations

from domain.customers import models, timeline, wiring
from domain.customers.models import CUSTOMER_NUMBERS
from kernel.module import Module


def wire(kontor) -> None:
    wiring.register(kontor)  # documents it takes, what mail routing asks of it
    # What the customer's portal users see of their timeline: the kinds every module marks so.
    timeline.show_to_customers(kind for module in kontor.modules for kind in module.customer_trace_kinds)
    # How each module's traces read in German and English.
    timeline.set_trace_texts(text for module in kontor.modules for text in module.trace_texts)


MODULE = Module(
    name="customers",
    package="domain.customers",
    public=("models", "access", "timeline", "commands", "inputs", "duplicates", "recipients", "rules", "letters",
            "module"),
    models=(models, timeline),
    number_series=(CUSTOMER_NUMBERS,),
    wire=wire,
    routers=("api.routers.customers:router", "api.routers.contacts:router", "api.routers.customer_records:router",
             "api.routers.customer_records:activities_router", "api.routers.customer_records:duplicates_router"),
    trace_kinds=("customer_merged", "customer_activated", "note_added",
                 *(f"{kind}_done" for kind in timeline.ACTIVITY_KINDS)),
    trace_texts=(("customer_merged", "{number} {name} mit diesem Kunden zusammengeführt",
                  "{number} {name} merged into this customer"),
                 ("customer_activated.order", "aktiver Kunde seit Auftrag {order} (vorher {was})",
                  "active customer since order {order} (was {was})"),
                 ("customer_activated.opportunity", "aktiver Kunde seit der gewonnenen Verkaufschance „{title}“ "
                  "(vorher {was})", "active customer since opportunity {title!r} won (was {was})")),
)
