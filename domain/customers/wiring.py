"""What the customers module registers at start-up: the records that take documents (customers,
contacts, activities, and received mail, whose reading it rules), and what the mail package asks
of it (known senders, bounces, who may change a customer or read its mail, the timeline's trace)."""
from __future__ import annotations

from domain.customers.access import editable_customer, require_received_mail_reader
from domain.customers.mail import ContactSenders, read_received_mail_document
from domain.customers.models import Contact
from domain.customers.timeline import Activity, record_trace
from mailers.inbound_models import InboundMail


def register(kontor) -> None:
    owners = kontor.document_owners
    owners.register("customer", None)
    owners.register("contact", Contact)
    owners.register("activity", Activity)
    owners.register("inbound_mail", InboundMail, read_received_mail_document)
    routes = kontor.mail_routes
    routes.register_senders(ContactSenders())
    routes.register_customers(editable_customer, require_received_mail_reader)
    routes.register_timeline(record_trace)
