"""Gapless number series under concurrency (domain/numbering.py): eight customers, eight offer
submissions and eight orders created at the same moment, from eight threads with a transaction
each, come out with eight different numbers and no gap, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from domain.customers.models import Customer
from domain.offers.models import Offer
from domain.orders.commands import create_order_from_offer
from tests.offer_support import new_offer, sales_setup
from tests.support import ok

RACERS = 8


def all_at_once(work, items) -> list:
    """work(item) for every item, each in its own thread, all released together."""
    start = threading.Barrier(len(items), timeout=30)

    def run(item):
        start.wait()
        return work(item)

    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(run, items))


def assert_gapless(numbers: list[str], prefix: str, first: int, digits: int) -> None:
    assert len(set(numbers)) == len(numbers), f"a number was given twice: {sorted(numbers)}"
    assert sorted(numbers) == [f"{prefix}{n:0{digits}d}" for n in range(first, first + len(numbers))], sorted(numbers)


def test_numbers_taken_at_the_same_moment_are_unique_and_gapless(kontor, api):
    for user in ("sam", "mona"):
        api.token(user)  # logins before the race: the threads share the client
    setup = sales_setup(api)  # the first customer: V-000001

    created = all_at_once(lambda n: api.post("/customers", {"name": f"Gleichzeitig {n} GmbH"}, user="sam"),
                          range(RACERS))
    numbers = [ok(response, 201)["number"] for response in created]
    assert_gapless(numbers, "V-", 2, 6)
    with kontor.transaction() as session:
        assert_gapless(list(session.scalars(select(Customer.number))), "V-", 1, 6)

    offers = [new_offer(api, setup) for _ in range(RACERS)]
    assert {offer["number"] for offer in offers} == {None}  # drafts have none yet
    submitted = all_at_once(lambda offer: api.post(f"/offers/{offer['id']}/submit", {}, user="sam"), offers)
    numbers = [ok(response)["number"] for response in submitted]
    year = re.fullmatch(r"OFF-(\d{4})-\d{4}", numbers[0]).group(1)
    assert_gapless(numbers, f"OFF-{year}-", 1, 4)

    def order(offer: dict) -> str:
        with kontor.transaction() as session:
            row = session.scalar(select(Offer).where(Offer.id == offer["id"]).with_for_update())
            return create_order_from_offer(session, row, int(year), "test", "sam").number

    assert_gapless(all_at_once(order, offers), f"ORD-{year}-", 1, 4)
