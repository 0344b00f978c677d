"""What clients of the generic process API (people and integrations) may do: who may start
processes and send messages, how large the data they bring may be, and the namespace of the message
ids they choose. The domain's own starts and messages (an offer's approval, a customer's answer)
do not come through here: they are refused to clients altogether (ProcessRuntime.domain_*)."""
from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy.orm import Session

from kernel.principal import STAFF_ROLES, Principal
from runtime.deployment import deployed_definitions
from kernel.errors import Forbidden, NotFound, TooLarge, ValidationFailed
from runtime.instances import start_instance
from runtime.messages import Correlation, correlate_message
from runtime.models import ProcessDefinition, ProcessInstance
from runtime.queries import may_see_instance
from runtime.runtime import ProcessRuntime

CLIENT_ROLES = (*STAFF_ROLES, "integration")
# Message ids Kontor makes itself: a client may not send one that looks like them.
RESERVED_MESSAGE_ID_PREFIXES = ("mail:", "offer-link:", "client:")


def require_process_client(who: Principal, what: str = "starting processes and sending messages") -> None:
    if who.is_portal or not who.has_any(*CLIENT_ROLES):
        raise Forbidden(f"{what} needs one of the roles: {', '.join(CLIENT_ROLES)}")


def definitions_for_client(session: Session, who: Principal, all_versions: bool = False) -> list[ProcessDefinition]:
    """The deployed processes, for who may start them: the models are internal (portal users start none)."""
    require_process_client(who, "reading the process definitions")
    return deployed_definitions(session, all_versions)


def require_data_fits(runtime: ProcessRuntime, data: dict, field: str = "data") -> None:
    """Process data a client sends (start data, message data, a form) is at most
    KONTOR_PROCESS_DATA_MAX_BYTES as JSON: it is stored with the instance and read at every step."""
    limit = runtime.settings.process_data_max_bytes
    size = len(json.dumps(data, ensure_ascii=False, default=str).encode())
    if size > limit:
        raise TooLarge(f"the {field} is {size} bytes as JSON; at most {limit} are taken",
                       [{"field": field, "message": f"at most {limit} bytes as JSON"}], limit=limit)


def start_for_client(session: Session, runtime: ProcessRuntime, who: Principal, process_key: str, data: dict,
                     business_key: str | None = None) -> tuple[ProcessInstance, bool]:
    """A start through the API. A business key already used by an instance the caller may not see
    answers exactly as an unknown instance would: nothing about it is told."""
    require_process_client(who)
    runtime.require_open_to_clients(process_key=process_key)
    require_data_fits(runtime, data)
    instance, created = start_instance(session, runtime, who, process_key, data, business_key)
    if not created and not may_see_instance(session, instance, who):
        raise NotFound("process instance not found")
    return instance, created


def stored_message_id(who: Principal, message_id: str) -> str:
    """The id under which a client's message is kept: in the client's own namespace, so that no
    client blocks or reads another's message (or Kontor's own) by choosing its id."""
    if message_id.startswith(RESERVED_MESSAGE_ID_PREFIXES):
        raise ValidationFailed("this message id is reserved", [{"field": "message_id", "message": (
            f"ids beginning with {', '.join(RESERVED_MESSAGE_ID_PREFIXES)} are Kontor's own")}])
    namespace = hashlib.sha256(who.username.encode()).hexdigest()[:20]
    return f"client:{namespace}:{message_id}"


def send_client_message(session: Session, runtime: ProcessRuntime, who: Principal, name: str, correlation: dict,
                        data: dict, message_id: str | None = None,
                        ttl_seconds: int | None = None) -> tuple[Correlation, str]:
    """(the outcome, the message id as the client knows it)."""
    require_process_client(who)
    runtime.require_open_to_clients(message_name=name)
    require_data_fits(runtime, data)
    require_data_fits(runtime, correlation, "correlation")
    message_id = message_id or str(uuid.uuid4())
    return correlate_message(session, runtime, who, name, correlation, data, stored_message_id(who, message_id),
                             ttl_seconds), message_id
