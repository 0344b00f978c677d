"""The customer list with 100,000 customers: filtered, searched, sorted and paged lists through the
real HTTP stack (uvicorn + httpx), p50/p95 per query kind. Target: under 100 ms on PostgreSQL."""
from __future__ import annotations

import random
from datetime import datetime, timezone

import httpx
from sqlalchemy import insert

from bench.common import stopwatch, summary_ms
from bench.http_bench import Server, _token
from domain.customers.models import Address, Contact, Customer
from domain.users import add_user

PREFIXES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
            "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Krüger", "Hartmann",
            "Nord", "Süd", "Alpen", "Rhein", "Elb", "Donau", "Spree", "Main", "Isar", "Ruhr"]
TRADES = ["Datentechnik", "IT-Service", "Systemhaus", "Maschinenbau", "Logistik", "Bau", "Elektro", "Medizintechnik",
          "Consulting", "Software", "Netzwerke", "Druck", "Handel", "Automotive", "Energie"]
FORMS = ["GmbH", "AG", "KG", "GmbH & Co. KG", "e.K.", "UG"]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig", "Dortmund",
          "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Augsburg", "Regensburg", "Kiel", "Freiburg"]
OWNERS = [f"sales{n:02d}" for n in range(20)]


def add_customers(kontor, count: int, chunk: int = 5000, seed: int = 7) -> float:
    """`count` customers with a main address and a contact each, as a mid-sized CRM holds them."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with stopwatch() as took:
        for first in range(0, count, chunk):
            rows, people, places = [], [], []
            for n in range(first, min(count, first + chunk)):
                name = f"{rng.choice(PREFIXES)} {rng.choice(TRADES)} {rng.choice(FORMS)}"
                city = rng.choice(CITIES)
                number = f"V-{n + 1:06d}"
                email = f"info{n}@{name.split()[0].lower()}-{n}.example"
                rows.append({"number": number, "name": name, "status": rng.choice(["lead", "active", "active",
                                                                                    "passive"]),
                             "country": "DE", "tax_treatment": "domestic", "currency": "EUR", "payment_days": 14,
                             "no_contact": False, "owner": rng.choice(OWNERS), "created_at": now, "updated_at": now,
                             "version": 1, "search_text": f"{number} {name} {city} {email}".lower()})
                places.append((city, n))
                people.append((email, n))
            with kontor.transaction() as session:
                ids = session.scalars(insert(Customer).returning(Customer.id), rows).all()
                session.execute(insert(Address), [{"customer_id": ids[i - first], "kind": "main", "is_default": True,
                                                   "street": "Hauptstraße 1", "postal_code": "10115", "city": city,
                                                   "country": "DE", "created_at": now} for city, i in places])
                session.execute(insert(Contact), [{"customer_id": ids[i - first], "last_name": "Kontakt",
                                                   "email": email, "language": "de", "marketing_consent": "unknown",
                                                   "receives_offers": True, "receives_invoices": True,
                                                   "receives_dunning": False, "no_contact": False, "active": True,
                                                   "created_at": now} for email, i in people])
    if kontor.engine.dialect.name == "postgresql":
        with kontor.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return round(took(), 1)


QUERIES = {
    "first page by name": {},
    "status=active, by number": {"status": "active", "sort": "number"},
    "owner + status": {"owner": "sales07", "status": "lead"},
    "search 'müller daten'": {"q": "müller daten"},
    "search city 'regensburg'": {"q": "regensburg"},
    "search e-mail 'info4711@'": {"q": "info4711@"},
    "deep page (offset 50,000)": {"offset": 50_000, "sort": "number"},
}


def customer_list_latency(kontor, customers: int, rounds: int = 30) -> dict:
    with kontor.transaction() as session:
        add_user(session, "benchsales", "benchsales-password", ["sales"])
    inserted_s = add_customers(kontor, customers)
    out: dict = {"customers": customers, "insert_s": inserted_s}
    with Server(kontor) as base, httpx.Client(base_url=base, timeout=30) as client:
        headers = _token(client, "benchsales")
        for label, params in QUERIES.items():
            samples = []
            for _ in range(rounds):
                with stopwatch() as took:
                    reply = client.get("/api/v1/customers", params=params, headers=headers)
                if reply.status_code != 200:
                    raise RuntimeError(f"{label}: {reply.status_code} {reply.text[:200]}")
                samples.append(took())
            stats = summary_ms(samples)
            out[label] = {"p50_ms": stats["p50_ms"], "p95_ms": stats["p95_ms"], "total": reply.json()["total"]}
    return out
