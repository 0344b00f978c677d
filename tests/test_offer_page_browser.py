"""The customer's answer page in a real browser (Debian's Chromium, driven by Playwright) against
Kontor served by uvicorn on loopback: the customer reads the offer and accepts it with one click."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from bench.http_bench import Server
from tests.offer_support import answer_token, drive, sales_setup, sent_offer
from tests.support import ok

CHROMIUM = "/usr/bin/chromium"
# As the machine's notes advise: no sandbox as root, no background traffic into the closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium():
    """Playwright runs an event loop while it is open: open it only around the browser's part (the
    worker's flows run their own)."""
    from playwright.sync_api import sync_playwright

    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.usefixtures("mail")
def test_the_customer_accepts_the_offer_in_the_browser(kontor, api, mail, tmp_path):
    setup = sales_setup(api)
    offer, message = sent_offer(kontor, api, setup, mail)
    token = answer_token(message)
    with Server(kontor) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/o/{token}")
        assert page.locator("#offer-title").inner_text() == "Netzwerk-Modernisierung"
        assert page.locator("#offer-total").inner_text().replace("\xa0", " ") == "1.428,00 €"
        page.screenshot(path=str(tmp_path / "offer-page.png"))
        page.fill("#reason", "Bitte im März liefern.")
        page.click("#accept")
        page.wait_for_selector("#done")
        assert "Zusage" in page.locator("#done").inner_text()
        assert page.locator("#problem").count() == 0  # thanks, and nothing that reads like an error
        assert page.locator("#accept").count() == 0  # no second answer from this page
        page.goto(f"{base}/o/{token}")
        answered = page.locator("#answered").inner_text()  # what was answered, and when
        assert "bereits verwendet" in answered and "angenommen" in answered
        today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the company's day (its default time zone)
        assert format_date(today, format="long", locale="de_DE") in answered
        assert page.locator("#problem").count() == 0
    drive(kontor)
    accepted = ok(api.get(f"/offers/{offer['id']}"))
    assert accepted["status"] == "accepted" and accepted["answer_note"] == "Bitte im März liefern."
    [order] = ok(api.get("/orders", params={"customer_id": setup["customer"]["id"]}, user="sam"))["items"]
    assert order["accepted_via"] == "link"
