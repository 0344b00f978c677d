"""Offers: how many go from creation to "sent" per second (lines priced, submitted, approval rules,
PDF rendered by WeasyPrint, mail queued in the outbox), and the PDF render time for 1, 10 and 100
lines. Driven through the domain handlers and the service-job runner, as the worker runs them."""
from __future__ import annotations

import uuid
from decimal import Decimal

from bench.common import stopwatch, summary_ms
from domain.catalog.models import PriceList, PriceListItem, Product
from domain.customers.models import Address, Contact, Customer
from domain.offers import commands
from domain.offers.document import offer_html, render_pdf
from domain.offers.models import Offer
from kernel.principal import Principal
from runtime.jobs import run_ready_jobs

SALES = Principal("bench-sales", frozenset({"sales", "manager"}))


def _catalog_and_customer(kontor) -> tuple[list[int], int]:
    tag = uuid.uuid4().hex[:8]
    with kontor.transaction() as session:
        products = []
        price_list = PriceList(code=f"BENCH-{tag}", name="Bench", currency="EUR", is_default=True)
        session.add(price_list)
        session.flush()
        for n, (price, rate) in enumerate((("120.00", "19"), ("10.00", "19"), ("39.90", "7"))):
            product = Product(sku=f"B-{tag}-{n}", name_de=f"Leistung {n} mit einem längeren Namen", unit="hour",
                              tax_rate=Decimal(rate), cost=Decimal("50.00") if n == 0 else None,
                              description_de="Beschreibung der Leistung über zwei Zeilen, damit die Tabelle "
                                             "so aussieht wie in einem echten Angebot.")
            session.add(product)
            session.flush()
            session.add(PriceListItem(price_list_id=price_list.id, product_id=product.id,
                                      tiers=[{"min_quantity": "1", "unit_price": price}]))
            products.append(product.id)
        customer = Customer(number=f"B-{tag}", name="Bench Maschinenbau GmbH", status="active", country="DE",
                            currency="EUR", tax_treatment="domestic", payment_days=30, owner=SALES.username,
                            price_list_id=price_list.id)
        session.add(customer)
        session.flush()
        session.add(Address(customer_id=customer.id, kind="main", street="Industriestraße 5", postal_code="70565",
                            city="Stuttgart", country="DE"))
        session.add(Contact(customer_id=customer.id, last_name="Einkauf", email=f"einkauf-{tag}@bench.example.test",
                            receives_offers=True))
        return products, customer.id


def _offer(kontor, products: list[int], customer_id: int, lines: int) -> int:
    with kontor.transaction() as session:
        offer = commands.create_offer(session, kontor.settings, SALES, {
            "customer_id": customer_id, "title": "Bench-Angebot",
            "lines": [{"product_id": products[n % len(products)], "quantity": Decimal(1 + n % 3)}
                      for n in range(lines)]})
        return offer.id


def offers_to_sent(kontor, count: int) -> dict:
    products, customer_id = _catalog_and_customer(kontor)
    with stopwatch() as elapsed:
        ids = [_offer(kontor, products, customer_id, 3) for _ in range(count)]
        for offer_id in ids:
            with kontor.transaction() as session:
                commands.submit_offer(session, kontor.runtime, kontor.settings, SALES, offer_id)
        while run_ready_jobs(kontor.sessions, kontor.runtime, limit=50):
            pass
    with kontor.transaction() as session:
        sent = sum(1 for offer_id in ids if session.get(Offer, offer_id).status == "sent")
    return {"offers": count, "sent": sent, "seconds": round(elapsed(), 2),
            "offers_per_s": round(sent / elapsed(), 2)}


def pdf_render_times(kontor, rounds: dict[int, int] | None = None,
                     variants: tuple[str | None, ...] = (None, "pdf/a-3b")) -> dict:
    """Warm render times of an offer with 1, 10 and 100 lines, plain and (for the longest) as PDF/A-3b,
    the variant invoices are rendered in; the variants alternate round by round, so that a busy
    moment of the machine weighs on both alike."""
    products, customer_id = _catalog_and_customer(kontor)
    out = {}
    plan = rounds or {1: 20, 10: 20, 100: 8}
    longest = max(plan)
    for lines, times in plan.items():
        offer_id = _offer(kontor, products, customer_id, lines)
        with kontor.transaction() as session:
            html = offer_html(session, kontor.settings, session.get(Offer, offer_id))
        kinds = variants if lines == longest else (None,)
        for variant in kinds:
            render_pdf(html, pdf_variant=variant)  # warm: fonts and styles loaded once per process
        durations: dict[str | None, list[float]] = {variant: [] for variant in kinds}
        for _ in range(times):
            for variant in kinds:
                with stopwatch() as elapsed:
                    render_pdf(html, pdf_variant=variant)
                durations[variant].append(elapsed())
        for variant, values in durations.items():
            suffix = "" if variant is None else "_" + variant.replace("/", "").replace("-", "")
            out[f"{lines}_lines{suffix}"] = summary_ms(values)
    return out
