"""A mail of an unknown sender to the leads mailbox becomes a lead (registered with the mail package)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from domain.sales.leads import create_lead
from kernel.principal import Principal
from mailers.inbound_models import InboundMail


def lead_from_mail(session: Session, who: Principal, mail: InboundMail) -> int:
    lead = create_lead(session, who, {
        "kind": "person", "email": mail.sender, "last_name": (mail.sender_name or mail.sender or "?")[:100],
        "source": "email",
        "message": (f"{mail.subject}\n\n{mail.reply_text}" if mail.subject else mail.reply_text)[:20_000]})
    return lead.id
