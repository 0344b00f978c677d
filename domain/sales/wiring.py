"""What the sales module registers at start-up: its records that take documents, and the lead a
stranger's mail to the leads mailbox becomes."""
from __future__ import annotations

from domain.sales.mail import lead_from_mail
from domain.sales.models import Lead, Opportunity


def register(kontor) -> None:
    kontor.document_owners.register("opportunity", Opportunity)
    kontor.document_owners.register("lead", Lead)
    kontor.mail_routes.register_leads(lead_from_mail)
