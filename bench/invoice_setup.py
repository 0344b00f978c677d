"""The invoices a benchmark starts from, made through the domain functions as people would make them:
a catalog, customers with a billing address and a contact who receives invoices, and for each
invoice an offer (3 lines) that became an order, delivered in full over a service period, drafted
and released into its order-to-invoice process. No invoice asks for an approval: each customer had
one invoice issued before (so none is a "first invoice"), prices stay as the order agreed and every
invoice stays far below 25,000 gross."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from sqlalchemy import select

from domain.catalog.models import PriceList, PriceListItem, Product
from domain.customers.models import Address, Contact, Customer
from domain.invoicing import process
from domain.invoicing.drafts import draft_invoices
from domain.invoicing.files import check_with_einvoice, issue_with_files
from domain.invoicing.models import Invoice
from domain.offers import commands as offer_commands
from domain.offers.models import Offer
from domain.orders.commands import create_order_from_offer
from domain.orders.deliveries import record_delivery
from domain.orders.models import OrderLine
from kernel.principal import Principal

ACCOUNTS = Principal("bench-accounts", frozenset({"sales", "accounting", "manager"}))
PERIOD = {"service_from": date(2026, 11, 2), "service_to": date(2026, 11, 27)}


@dataclass(frozen=True)
class Catalog:
    products: list[int]
    customers: list[int]


def catalog(kontor, customers: int) -> Catalog:
    """Three products on a default price list and `customers` customers, each with one invoice issued."""
    tag = uuid.uuid4().hex[:8]
    with kontor.transaction() as session:
        price_list = PriceList(code=f"INV-{tag}", name="Bench invoices", currency="EUR", is_default=True)
        session.add(price_list)
        session.flush()
        products = []
        for n, (price, rate, unit) in enumerate((("120.00", "19", "hour"), ("10.00", "19", "piece"),
                                                 ("39.90", "7", "piece"))):
            product = Product(sku=f"I-{tag}-{n}", name_de=f"Leistung {n} mit einem längeren Namen", unit=unit,
                              tax_rate=Decimal(rate),
                              description_de="Beschreibung der Leistung über zwei Zeilen, damit die Tabelle so "
                                             "aussieht wie in einer echten Rechnung.")
            session.add(product)
            session.flush()
            session.add(PriceListItem(price_list_id=price_list.id, product_id=product.id,
                                      tiers=[{"min_quantity": "1", "unit_price": price}]))
            products.append(product.id)
        ids = []
        for n in range(customers):
            customer = Customer(number=f"I-{tag}-{n}", name=f"Bench Maschinenbau {n} GmbH", status="active",
                                country="DE", currency="EUR", tax_treatment="domestic", payment_days=30,
                                skonto_percent=Decimal(2), skonto_days=10, owner=ACCOUNTS.username,
                                price_list_id=price_list.id)
            session.add(customer)
            session.flush()
            session.add(Address(customer_id=customer.id, kind="main", street=f"Industriestraße {n + 1}",
                                postal_code="70565", city="Stuttgart", country="DE"))
            session.add(Contact(customer_id=customer.id, first_name="Erika", last_name="Einkauf",
                                email=f"einkauf-{tag}-{n}@bench.example.test", receives_offers=True,
                                receives_invoices=True))
            ids.append(customer.id)
    made = Catalog(products, ids)
    for customer_id in ids:  # an earlier invoice: the next ones are not the customer's first
        with kontor.transaction() as session:
            invoice_id = drafted(session, kontor, made, customer_id, 3)
            issue_with_files(session, kontor, ACCOUNTS, invoice_id)
    return made


def drafted(session, kontor, made: Catalog, customer_id: int, lines: int) -> int:
    """An offer of `lines` lines accepted as an order, delivered in full, drafted: the draft's id."""
    offer = offer_commands.create_offer(session, kontor.settings, ACCOUNTS, {
        "customer_id": customer_id, "title": "Wartung und Material",
        "lines": [{"product_id": made.products[n % len(made.products)], "quantity": Decimal(1 + n % 3)}
                  for n in range(lines)]})
    offer = session.scalar(select(Offer).where(Offer.id == offer.id).with_for_update())
    order = create_order_from_offer(session, offer, PERIOD["service_from"].year, "salesperson", ACCOUNTS.username)
    order_lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                  .order_by(OrderLine.position)).all()
    record_delivery(session, ACCOUNTS, order.id, [{"order_line_id": line.id, "quantity": line.quantity, **PERIOD}
                                                  for line in order_lines])
    [invoice] = draft_invoices(session, ACCOUNTS, PERIOD["service_to"], order_id=order.id)
    return invoice.id


def released_drafts(kontor, made: Catalog, count: int, lines: int = 3, checked: bool = True) -> list[int]:
    """`count` drafts, spread over the customers, released into their process (each its own
    transaction, as a person releases them). `checked`: the release tries the issue first, as the
    API's release does (the e-invoice built and validated once more)."""
    ids = []
    for n in range(count):
        with kontor.transaction() as session:
            invoice_id = drafted(session, kontor, made, made.customers[n % len(made.customers)], lines)
            check = partial(check_with_einvoice, kontor=kontor) if checked else (lambda *_: None)
            invoice = process.release(session, kontor.runtime, ACCOUNTS, invoice_id, None, check)
            if invoice.status != "released" or invoice.instance_id is None:
                raise RuntimeError(f"invoice {invoice_id} is {invoice.status} after its release")
            ids.append(invoice_id)
    return ids


def draft_ids(kontor, made: Catalog, count: int, lines: int = 3) -> list[int]:
    """`count` drafts, not released (the in-process measurements issue them themselves)."""
    ids = []
    for n in range(count):
        with kontor.transaction() as session:
            ids.append(drafted(session, kontor, made, made.customers[n % len(made.customers)], lines))
    return ids


def invoice_of(session, invoice_id: int) -> Invoice:
    return session.get(Invoice, invoice_id)
