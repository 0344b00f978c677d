from typing import Annotated

from fastapi import APIRouter, Response

from api.deps import RuntimeDep, SessionDep, require
from api.schemas import MessageIn, MessageOut
from kernel.principal import Principal
from runtime.clients import send_client_message

router = APIRouter(prefix="/messages", tags=["messages"])
Sender = Annotated[Principal, require("ops", "integration", "sales")]


@router.post("", response_model=MessageOut, status_code=202,
             summary="Correlate a message by name and correlation values; buffered when nobody waits yet")
def post_message(body: MessageIn, session: SessionDep, runtime: RuntimeDep, user: Sender, response: Response):
    result, message_id = send_client_message(session, runtime, user, body.name, body.correlation, body.data,
                                             body.message_id, body.ttl_seconds)
    message = result.message
    if message.status == "delivered" and not result.duplicate:
        response.status_code = 200
    return MessageOut(message_id=message_id, name=message.name, status=message.status,
                      instance_id=message.instance_id, duplicate=result.duplicate, expires_at=message.expires_at)
