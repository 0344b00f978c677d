"""Helpers of the offer tests: a small catalog and customer, the worker driven until nothing is left
to do, and the open tasks of an offer's process."""
from __future__ import annotations

import time
import uuid

from flows.worker import work_once
from tests.support import ok

CONSULTING = {"sku": "SRV-CONS-H", "name_de": "Beratung (Stunde)", "name_en": "Consulting (hour)", "unit": "hour",
              "tax_rate": "19", "cost": "62.50"}
LICENCE = {"sku": "LIC-BACKUP", "name_de": "Backup-Lizenz", "name_en": "Backup licence", "unit": "licence",
           "tax_rate": "19", "cost": "4.00"}
BOOK = {"sku": "BOOK-IT", "name_de": "Handbuch IT-Sicherheit", "unit": "piece", "tax_rate": "7"}


def sales_setup(api, *, customer: dict | None = None, contact: dict | None = None, suffix: str | None = None,
                user: str = "sam") -> dict:
    """Three products on the default EUR price list, a customer with a main address and a contact
    who receives offers (a fresh address per call, so mailboxes do not mix); `user` owns the customer."""
    suffix = suffix or uuid.uuid4().hex[:8]
    products = {}
    for key, body in (("consulting", CONSULTING), ("licence", LICENCE), ("book", BOOK)):
        products[key] = ok(api.post("/products", {**body, "sku": f"{body['sku']}-{suffix}"}, user="mona"), 201)
    price_list = ok(api.post("/price-lists", {"code": f"STD-{suffix}", "name": "Standard", "currency": "EUR",
                                              "is_default": True}, user="mona"), 201)
    for key, price in (("consulting", "120.00"), ("licence", "10.00"), ("book", "39.90")):
        ok(api.post(f"/price-lists/{price_list['id']}/items", {"product_id": products[key]["id"], "tiers": [
            {"min_quantity": "1", "unit_price": price}]}, user="mona"), 201)
    body = {"name": "ACME Maschinenbau GmbH", "payment_days": 30, "credit_limit": "100000.00",
            "main_address": {"street": "Industriestraße 5", "postal_code": "70565", "city": "Stuttgart"},
            **(customer or {})}
    created = ok(api.post("/customers", body, user=user), 201)
    address = f"einkauf.{suffix}@acme.test"
    person = ok(api.post(f"/customers/{created['id']}/contacts", {
        "first_name": "Anna", "last_name": "Müller", "email": address, "receives": ["offers", "invoices"],
        **(contact or {})}, user=user), 201)
    return {"products": products, "price_list": price_list, "customer": created, "contact": person,
            "address": person["email"]}


def new_offer(api, setup, user: str = "sam", lines: list | None = None, **fields) -> dict:
    if lines is None:
        lines = [{"product_id": setup["products"]["consulting"]["id"], "quantity": "10"}]
    body = {"customer_id": setup["customer"]["id"], "title": "Netzwerk-Modernisierung", "lines": lines, **fields}
    return ok(api.post("/offers", body, user=user), 201)


def drive(kontor, rounds: int = 30) -> list[dict]:
    """Run the worker's flows (real Prefect flow runs) until a round finds nothing to do."""
    done = []
    for _ in range(rounds):
        did = work_once(kontor)
        if not any(did.values()):
            return done
        done.append(did)
    raise AssertionError(f"the worker still had work after {rounds} rounds: {done[-3:]}")


def open_tasks(api, offer: dict, user: str = "olga") -> list[dict]:
    """The open human tasks of the offer's current process instance."""
    fresh = ok(api.get(f"/offers/{offer['id']}", user="olga"))
    if fresh["instance_id"] is None:
        return []
    return ok(api.get("/tasks", user=user, params={"instance_id": fresh["instance_id"]}))["items"]


def only_task(api, offer: dict, name: str | None = None) -> dict:
    tasks = open_tasks(api, offer)
    assert len(tasks) == 1, tasks
    if name is not None:
        assert tasks[0]["name"] == name, tasks
    return tasks[0]


def complete(api, task: dict, user: str, data: dict, status: int = 200) -> dict:
    ok(api.post(f"/tasks/{task['id']}/claim", user=user), 200)
    return ok(api.post(f"/tasks/{task['id']}/complete", {"data": data}, user=user), status)


def wait_until(predicate, timeout: float = 20, interval: float = 0.2, what: str | None = None):
    """The predicate's first true value; fails the test when none came within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what or getattr(predicate, '__name__', 'a condition')}; "
                                 f"last value: {value!r}")
        time.sleep(interval)


def answer_token(message) -> str:
    """The token of the answer link in an offer mail."""
    text = message.get_body(("plain",)).get_content()
    return next(line for line in text.splitlines() if "/o/" in line).split("/o/", 1)[1].strip()


def sent_offer(kontor, api, setup, mail, **fields) -> tuple[dict, object]:
    """An offer that needs no approval, submitted and sent: (the offer, the mail the customer got)."""
    from tests.mailbox import wait_for_mail

    offer = new_offer(api, setup, **fields)
    ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))
    drive(kontor)
    messages = wait_for_mail(mail, setup["address"])
    assert len(messages) == 1, [m["Subject"] for m in messages]
    return offer, messages[0]


def customer_replies(mail, replies, received, text: str, count: int = 1) -> list[dict]:
    """The customer answers the mail over SMTP; Kontor's read-mailboxes flow takes it in."""
    from flows.mail import read_mailboxes
    from tests.mailbox import answer, send_smtp, wait_for_mail

    send_smtp(mail, answer(received, text))
    wait_for_mail(mail, replies.username, count)
    return read_mailboxes()
