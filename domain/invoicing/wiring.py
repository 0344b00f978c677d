"""What the invoicing module registers at start-up: issued invoices refuse change in every session,
and invoices take documents (their e-invoice XML and PDF)."""
from __future__ import annotations

from domain.invoicing.immutability import guard
from domain.invoicing.models import Invoice


def register(kontor) -> None:
    guard(kontor.sessions)
    kontor.document_owners.register("invoice", Invoice)
