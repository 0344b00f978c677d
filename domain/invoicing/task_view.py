"""What a person sees beside the tasks of an invoice's process (bpmn/order_to_invoice.bpmn): to
approve it, the invoice as it would be issued (its lines, totals, who drafted, changed and released
it, the rule that asks for the approval, the customer's open items); to review a reply to it, the
reply (sender, subject, text, why it waits for a person) beside the invoice as issued. Amounts as
text, as the API writes money."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from domain.customers.models import Customer
from domain.invoicing.issuing import lines_of, totals_of
from domain.invoicing.models import Invoice, InvoiceLine
from domain.invoicing.process import authors
from domain.payments.balances import open_items_total
from kernel.clock import utcnow
from kernel.principal import Principal

REPLY_FIELDS = ("inbound_mail_id", "from", "subject", "reply_text", "route", "review_reason", "evidence")


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _day(value) -> str | None:
    return None if value is None else value.isoformat()


def _line(line: InvoiceLine) -> dict[str, Any]:
    return {"position": line.position, "sku": line.sku, "name": line.name, "quantity": str(line.quantity),
            "unit": line.unit, "unit_price": _text(line.unit_price), "discount_percent": str(line.discount_percent),
            "tax_rate": str(line.tax_rate), "tax_category": line.tax_category, "net": _text(line.net),
            "service_from": _day(line.service_from), "service_to": _day(line.service_to),
            "price_changed": line.price_changed}


def invoice_facts(session: Session, invoice: Invoice) -> dict[str, Any]:
    """The invoice with its lines; a draft's totals as its lines give them (an issued one keeps its own)."""
    lines = lines_of(session, invoice.id)
    if invoice.status == "issued":
        net, tax, gross = invoice.net_total, invoice.tax_total, invoice.gross_total
    else:
        totals = totals_of(invoice, lines)
        net, tax, gross = totals.net_total, totals.tax_total, totals.gross_total
    corrected = session.get(Invoice, invoice.corrects_id) if invoice.corrects_id else None
    return {"id": invoice.id, "label": invoice.label, "number": invoice.number, "kind": invoice.kind,
            "status": invoice.status, "currency": invoice.currency, "issue_date": _day(invoice.issue_date),
            "due_date": _day(invoice.due_date), "net_total": _text(net), "tax_total": _text(tax),
            "gross_total": _text(gross), "prepaid_total": _text(invoice.prepaid_total),
            "header_discount_percent": str(invoice.header_discount_percent),
            "skonto_percent": None if invoice.skonto_percent is None else str(invoice.skonto_percent),
            "skonto_days": invoice.skonto_days, "manual_prices": invoice.manual_prices,
            "einvoice_format": invoice.einvoice_format, "note": invoice.note,
            "corrects": None if corrected is None else {"id": corrected.id, "number": corrected.number,
                                                        "issue_date": _day(corrected.issue_date)},
            "drafted_by": invoice.created_by, "released_by": invoice.released_by,
            "editors": sorted(invoice.editors or []), "lines": [_line(line) for line in lines]}


def invoice_brief(session: Session, who: Principal, task, variables: dict, language: str = "de") -> dict | None:
    """Beside "Approve invoice" and "Review reply to invoice": for staff, who read invoices and open
    items (these tasks are accounting's and managers'; ops see every task)."""
    invoice = session.get(Invoice, variables.get("invoice_id"))
    if invoice is None or not who.is_staff:
        return None
    customer = session.get_one(Customer, invoice.customer_id)
    brief: dict[str, Any] = {
        "invoice": invoice_facts(session, invoice),
        "customer": {"id": customer.id, "number": customer.number, "name": customer.name,
                     "open_items_total": _text(open_items_total(session, customer.id, utcnow().date())),
                     "first_invoice": bool(variables.get("first_invoice"))},
        "approval": None, "reply": None}
    if variables.get("approver_group") not in (None, "none"):
        brief["approval"] = {"group": variables["approver_group"], "rule": variables.get("approval_rule"),
                             "not_by": sorted(authors(invoice))}
    reply = variables.get("reply")
    if isinstance(reply, dict):
        brief["reply"] = {key: reply.get(key) for key in REPLY_FIELDS}
    return brief
