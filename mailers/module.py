"""Mail as a module: the outbox and received mail, and their ops API."""
from __future__ import annotations

from kernel.module import Module
from mailers import inbound_models, outbox
from mailers.settings import MailSettings

MODULE = Module(
    name="mail",
    settings=MailSettings,
    models=(inbound_models, outbox),
    routers=("api.routers.outbox:router", "api.routers.inbound_mails:router"),
    trace_kinds=("mail_received",),
    trace_texts=(("mail_received", "E-Mail von {sender}: {subject}", "mail from {sender}: {subject}"),),
)
