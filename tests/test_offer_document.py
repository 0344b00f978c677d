"""The offer PDF: WeasyPrint fetches nothing but its own assets, hostile names render as text, the
language follows the contact, pages are numbered, the mandatory data is there. SQLite and PostgreSQL."""
from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pypdf import PdfReader

from domain.offers.document import ASSETS, FetchRefused, offer_html, own_asset, render_pdf
from domain.offers.models import Offer
from tests.offer_support import new_offer, sales_setup
from tests.support import ensure_user, ok


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def rendered(kontor, offer_id: int) -> tuple[str, bytes]:
    with kontor.transaction() as session:
        html = offer_html(session, kontor.settings, session.get(Offer, offer_id))
    return html, render_pdf(html)


@pytest.fixture
def http_server():
    """A loopback web server that counts every request it gets."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/a.css",
                                 "data:text/css,body{}", (ASSETS / ".." / "document.py").as_uri(),
                                 (ASSETS / "letter.css").as_uri() + "/../../document.py"])
def test_the_fetcher_serves_nothing_but_the_assets(url):
    with pytest.raises(FetchRefused):
        own_asset(url)


def test_the_fetcher_serves_the_stylesheet():
    content, mime = own_asset((ASSETS / "letter.css").as_uri())
    assert mime == "text/css" and b"@page" in content


def test_a_hostile_customer_name_renders_as_text_and_fetches_nothing(kontor, api, http_server):
    port, hits = http_server
    hostile = f'<img src="file:///etc/passwd"> <img src="http://127.0.0.1:{port}/tracker.png"> & Co'
    setup = sales_setup(api, customer={"name": hostile},
                        contact={"last_name": f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'})
    offer = new_offer(api, setup, title=f'<iframe src="http://127.0.0.1:{port}/frame">')
    html, content = rendered(kontor, offer["id"])
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html and "<img" not in html and "<iframe" not in html
    pages, text = pdf_text(content)
    assert '<img src="file:///etc/passwd">' in text and "tracker.png" in text
    assert "root:" not in text
    assert hits == []


def test_german_offer_with_the_mandatory_data_and_numbered_pages(kontor, api):
    setup = sales_setup(api)
    products = setup["products"]
    lines = [{"product_id": products[key]["id"], "quantity": str(n + 1)}
             for n in range(40) for key in ("consulting", "licence", "book")][:100]
    offer = new_offer(api, setup, lines=lines, header_discount_percent="2")
    ok_submit = api.post(f"/offers/{offer['id']}/submit", {}, user="sam")
    assert ok_submit.status_code == 200, ok_submit.text
    number = ok_submit.json()["number"]
    pages, text = pdf_text(rendered(kontor, offer["id"])[1])
    assert pages >= 3
    for page in range(1, pages + 1):
        assert f"Seite {page} / {pages}" in text
    for needed in (f"Angebot {number}", "Gültig bis", "Kundennummer", setup["customer"]["number"],
                   "Industriestraße 5", "70565 Stuttgart", "Nettobetrag", "Umsatzsteuer 19 %", "Umsatzsteuer 7 %",
                   "Gesamtbetrag", "zahlbar innerhalb von 30 Tagen netto", "Kontor Demo GmbH", "USt-IdNr. DE123456788",
                   "Amtsgericht", "Geschäftsführung", "IBAN", "Rabatt 2 %"):
        assert needed in text, needed


def test_an_english_contact_gets_an_english_offer(kontor, api):
    setup = sales_setup(api, contact={"language": "en"})
    offer = new_offer(api, setup)
    html, content = rendered(kontor, offer["id"])
    pages, text = pdf_text(content)
    assert "Consulting (hour)" in text and "Net amount" in text and "Page 1 / 1" in text
    assert "Angebot" not in text


def test_reverse_charge_customers_get_no_tax_and_the_note(kontor, api):
    setup = sales_setup(api, customer={"country": "AT", "vat_id": "ATU13585627", "tax_treatment": "eu_reverse_charge"})
    offer = new_offer(api, setup)
    assert offer["tax_total"] == "0.00" and offer["gross_total"] == offer["net_total"]
    text = pdf_text(rendered(kontor, offer["id"])[1])[1]
    assert "Reverse Charge" in text and "Umsatzsteuer 0 %" in text


def salesperson(kontor, username: str = "sara") -> str:
    """A salesperson with a name, a phone number and an e-mail address."""
    from sqlalchemy import select

    from domain.users import User

    ensure_user(kontor, username, ["sales"])
    with kontor.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        user.full_name, user.phone, user.email = "Sara Sales", "+49 30 1234567-12", "sara.sales@kontor.test"
    return username


def delivered_setup(api, user: str, contact: dict) -> dict:
    """A customer with a plant whose default delivery address differs from the main address."""
    setup = sales_setup(api, contact=contact, user=user)
    customer_id = setup["customer"]["id"]
    site = ok(api.post(f"/customers/{customer_id}/sites", {"name": "Werk Esslingen"}, user=user), 201)
    ok(api.post(f"/customers/{customer_id}/addresses", {
        "kind": "delivery", "site_id": site["id"], "is_default": True, "recipient": "Warenannahme Tor 3",
        "street": "Hafenstraße 12", "postal_code": "73728", "city": "Esslingen"}, user=user), 201)
    return setup


def unit_lines(setup) -> list[dict]:
    products = setup["products"]
    return [{"product_id": products["consulting"]["id"], "quantity": "1200"},
            {"product_id": products["book"]["id"], "quantity": "20"},
            {"product_id": products["licence"]["id"], "quantity": "1"}]


def test_the_letter_greets_the_contact_and_names_the_delivery_place_and_the_salesperson(kontor, api):
    user = salesperson(kontor)
    setup = delivered_setup(api, user, {"salutation": "Frau Dr.", "first_name": "Petra", "last_name": "Schmidt"})
    offer = new_offer(api, setup, user=user, lines=unit_lines(setup))
    html, content = rendered(kontor, offer["id"])
    pages, text = pdf_text(content)
    for needed in ("Sehr geehrte Frau Dr. Schmidt,", "1.200 Stunden", "20 Stück", "1 Lizenz",
                   "Lieferanschrift", "Werk Esslingen", "Warenannahme Tor 3", "Hafenstraße 12", "73728 Esslingen",
                   "Ansprechpartner Sara Sales", "+49 30 1234567-12", "sara.sales@kontor.test",
                   "144.000,00 €"):
        assert needed in text, (needed, text[:900])
    assert "1200.0000" not in text and " hour" not in text and "piece" not in text
    assert user not in text.replace("sara.sales@", "")  # the person, never the user name
    # the date stays on one line of the info block
    with kontor.transaction() as session:
        issued = session.get(Offer, offer["id"]).created_at
    from kernel.formatting import day

    raw = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert any(day(issued.date(), "de") in line for line in raw.splitlines()), raw[:600]


def test_an_english_letter_greets_in_english_with_cldr_units(kontor, api):
    user = salesperson(kontor)
    setup = delivered_setup(api, user, {"salutation": "Mr", "first_name": "John", "last_name": "Smith",
                                        "language": "en"})
    offer = new_offer(api, setup, user=user, lines=unit_lines(setup))
    text = pdf_text(rendered(kontor, offer["id"])[1])[1]
    for needed in ("Dear Mr Smith,", "1,200 hours", "20 pieces", "1 licence", "Delivery address", "Werk Esslingen",
                   "€144,000.00", "Your contact Sara Sales"):
        assert needed in text, needed


def test_without_a_form_of_address_the_letter_opens_neutrally(kontor, api):
    setup = sales_setup(api)  # Anna Müller, no salutation stored
    text = pdf_text(rendered(kontor, new_offer(api, setup)["id"])[1])[1]
    assert "Sehr geehrte Damen und Herren," in text and "Sehr geehrte Frau" not in text
    # the salesperson sam has no name stored: the letter gives the e-mail, never the user name
    assert "E-Mail sam@kontor.test" in text and "Ansprechpartner" not in text


def test_the_letterheads_vat_id_passes_kontors_own_check():
    from domain.customers.rules import normalize_vat_id
    from domain.settings import CompanySettings

    default = CompanySettings().company_vat_id
    assert normalize_vat_id(default, "DE") == (default, None)
    with pytest.raises(ValueError, match="not a valid VAT ID"):
        CompanySettings(company_vat_id="DE123456789")
