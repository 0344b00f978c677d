"""What the customers module tells the mail package and the documents about mail: who a sender is
(the contacts), which contacts bounce, who may read received mail as it came in. The mail package
asks; the routing order and what counts as proof stay in mailers.routing."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain.customers.access import require_received_mail_reader
from domain.customers.models import Contact
from kernel.clock import utcnow
from kernel.documents import Document
from kernel.principal import Principal
from mailers.inbound_models import InboundMail


class ContactSenders:
    """Senders as the contacts know them (mailers.routes.Senders); addresses compared in lower case."""

    def contacts_with(self, session: Session, address: str) -> list[tuple[int, int]]:
        return [(customer_id, contact_id) for customer_id, contact_id in session.execute(
            select(Contact.customer_id, Contact.id).where(func.lower(Contact.email) == address,
                                                          Contact.active.is_(True)).order_by(Contact.id))]

    def is_contact_of(self, session: Session, customer_id: int, address: str) -> bool:
        return session.scalar(select(Contact.id).where(Contact.customer_id == customer_id,
                                                       func.lower(Contact.email) == address).limit(1)) is not None

    def mark_bouncing(self, session: Session, addresses: tuple[str, ...]) -> None:
        session.execute(update(Contact).where(func.lower(Contact.email).in_(addresses),
                                              Contact.email_bounced_at.is_(None)).values(email_bounced_at=utcnow()))


def read_received_mail_document(session: Session, who: Principal, document: Document) -> None:
    """A received mail's documents (its raw source, its attachments) are read as the mail itself is:
    they may carry the reply token, a Message-ID Kontor made or the answer link."""
    mail = session.get(InboundMail, document.owner_id)
    require_received_mail_reader(session, who, document.customer_id,
                                 open_to_staff=mail is not None and mail.carries_no_proof)
