"""An issued invoice never changes (§14 UStG, GoBD), tried on SQLite and PostgreSQL: the application
refuses the flush, and the database itself refuses an UPDATE or DELETE of the invoice and any
INSERT, UPDATE or DELETE of its lines sent around the application. A draft stays changeable. Eight
issuers at the same moment take eight numbers without gap or double."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from domain.invoicing.files import issue_with_files
from domain.invoicing.immutability import IssuedInvoiceImmutable
from domain.invoicing.models import Invoice, InvoiceLine
from kernel.principal import Principal
from tests.invoice_support import deliver, draft, order_of, sales_setup
from tests.support import ok
from tests.test_number_series import all_at_once, assert_gapless

ALMA = Principal("alma", frozenset({"accounting"}))


@pytest.fixture
def issued_and_draft(kontor, api):
    setup = sales_setup(api)
    first, second = order_of(kontor, api, setup), order_of(kontor, api, setup)
    deliver(api, first, {1: "10"})
    deliver(api, second, {1: "3"})
    [issued] = draft(api, order_id=first["id"])
    [open_draft] = draft(api, order_id=second["id"])
    with kontor.transaction() as session:  # issued at once, without its process: the process has tests of its own
        issue_with_files(session, kontor, ALMA, issued["id"])
    return ok(api.get(f"/invoices/{issued['id']}", user="alma")), open_draft


def test_the_application_refuses_every_change_of_an_issued_invoice(kontor, issued_and_draft):
    issued, _ = issued_and_draft
    changes = [
        lambda s: setattr(s.get(Invoice, issued["id"]), "note", "geändert"),
        lambda s: setattr(s.get(Invoice, issued["id"]), "gross_total", Decimal("1.00")),
        lambda s: s.delete(s.get(Invoice, issued["id"])),
        lambda s: setattr(s.get(InvoiceLine, issued["lines"][0]["id"]), "quantity", Decimal("1")),
        lambda s: s.delete(s.get(InvoiceLine, issued["lines"][0]["id"])),
        lambda s: s.add(InvoiceLine(invoice_id=issued["id"], position=9, name="Nachtrag", unit="piece",
                                    quantity=Decimal(1), unit_price=Decimal(1), tax_rate=Decimal(19),
                                    net=Decimal(1))),
    ]
    for change in changes:
        with pytest.raises(IssuedInvoiceImmutable, match="credit note"):
            with kontor.transaction() as session:
                change(session)
    with kontor.transaction() as session:
        assert session.get(Invoice, issued["id"]).gross_total == Decimal(issued["gross_total"])


@pytest.mark.parametrize("statement", [
    "UPDATE invoice SET note = 'geändert' WHERE id = :invoice",
    "UPDATE invoice SET status = 'draft' WHERE id = :invoice",
    "DELETE FROM invoice WHERE id = :invoice",
    "UPDATE invoice_line SET quantity = 1 WHERE invoice_id = :invoice",
    "UPDATE invoice_line SET invoice_id = :invoice WHERE invoice_id = :draft",
    "DELETE FROM invoice_line WHERE invoice_id = :invoice",
    "INSERT INTO invoice_line (invoice_id, position, name, unit, quantity, unit_price, discount_percent, tax_rate, "
    "tax_category, goods, net, price_changed) VALUES (:invoice, 9, 'Nachtrag', 'piece', 1, 1, 0, 19, 'S', false, 1, "
    "false)",
])
def test_the_database_refuses_every_change_of_an_issued_invoice_sent_around_the_application(
        kontor, issued_and_draft, statement):
    issued, open_draft = issued_and_draft
    with pytest.raises(DBAPIError, match="an issued invoice cannot change"):
        with kontor.engine.begin() as connection:
            connection.execute(text(statement), {"invoice": issued["id"], "draft": open_draft["id"]})
    with kontor.engine.connect() as connection:
        row = connection.execute(text("SELECT status, note FROM invoice WHERE id = :id"), {"id": issued["id"]}).one()
        assert tuple(row) == ("issued", None)
        assert connection.execute(text("SELECT count(*) FROM invoice_line WHERE invoice_id = :id"),
                                  {"id": issued["id"]}).scalar() == 1


def test_a_draft_stays_changeable_in_the_database_too(kontor, issued_and_draft):
    _, open_draft = issued_and_draft
    with kontor.engine.begin() as connection:
        connection.execute(text("UPDATE invoice SET note = 'Entwurf' WHERE id = :id"), {"id": open_draft["id"]})
        connection.execute(text("UPDATE invoice_line SET name = 'Beratung' WHERE invoice_id = :id"),
                           {"id": open_draft["id"]})
        connection.execute(text("DELETE FROM invoice_line WHERE invoice_id = :id"), {"id": open_draft["id"]})
        connection.execute(text("DELETE FROM invoice WHERE id = :id"), {"id": open_draft["id"]})


def test_eight_issuers_at_the_same_moment_take_eight_numbers_without_gap(kontor, api):
    setup = sales_setup(api)
    drafts = []
    for _ in range(8):
        order = order_of(kontor, api, setup)
        deliver(api, order, {1: "1"})
        drafts += draft(api, order_id=order["id"])

    def issue_one(invoice: dict) -> str:
        with kontor.transaction() as session:
            return issue_with_files(session, kontor, ALMA, invoice["id"]).number

    numbers = all_at_once(issue_one, drafts)
    assert_gapless(numbers, f"INV-{date.today().year}-", 1, 4)
    with ThreadPoolExecutor(8) as pool:  # issued again at once: each keeps its number
        assert sorted(pool.map(issue_one, drafts)) == sorted(numbers)
