"""Every table of Kontor, registered on Base.metadata by importing its module: Alembic and the
schema test import this one place."""
import api.idempotency_store  # noqa: F401
import domain.catalog.models  # noqa: F401
import domain.customers.models  # noqa: F401
import domain.customers.timeline  # noqa: F401
import domain.login_throttle  # noqa: F401
import domain.numbering  # noqa: F401
import domain.offers.models  # noqa: F401
import domain.orders.models  # noqa: F401
import domain.sales.models  # noqa: F401
import domain.security_events  # noqa: F401
import domain.users  # noqa: F401
import kernel.documents  # noqa: F401
import runtime.offline_runs  # noqa: F401
import mailers.inbound_models  # noqa: F401
import mailers.outbox  # noqa: F401
import runtime.models  # noqa: F401
import runtime.workers  # noqa: F401
