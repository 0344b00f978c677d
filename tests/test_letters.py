"""The shared letter (domain.letters): a minimal document with a service-period column renders, plain
and as PDF/A-3b; the fetcher serves the letter's assets and refuses everything else, also when the
document's own text names other URLs; the heading row repeats on every page; the totals never stand
alone at the top of a page; figure columns are as wide as their widest text."""
from __future__ import annotations

import io
import threading
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from domain.letters import render
from domain.letters.columns import CONTENT_WIDTH_MM, MIN_ITEM_MM, line_columns, text_width_mm
from domain.letters.context import Formats, company_of, payment_terms, tax_note, totals_context
from domain.letters.render import ASSETS, FetchRefused, environment, own_asset, render_pdf
from domain.letters.texts import LETTER_TEXTS, document_language, words
from domain.settings import CompanySettings


def pdf_pages(content: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


def letter(lines: int = 3, *, period: bool = True, lang: str = "de", name: str = "Wartung",
           description: str | None = "Wartung der Anlage laut Vertrag") -> dict:
    """The context of a minimal document (as an invoice will build it): the letter's parts by hand,
    lines with a service period, totals with two tax rates."""
    fmt = Formats(lang, "EUR")
    t = words({"de": {"doc": "Rechnung"}, "en": {"doc": "Invoice"}})[lang]
    rows = [{"position": n, "name": f"{name} {n}", "sku": f"SRV-{n}", "description": description,
             "period": fmt.period(date(2026, 11, 1), date(2026, 11, 30)),
             "quantity": fmt.quantity(Decimal(n), "hour"), "unit_price": fmt.money(Decimal("95.00")),
             "tax_rate": fmt.percent(Decimal(19 if n % 2 else 7)), "net": fmt.money(Decimal(95 * n))}
            for n in range(1, lines + 1)]
    return dict(
        lang=lang, t=t, company=company_of(CompanySettings()), company_country="DE",
        customer=SimpleNamespace(name="Muster & Söhne GmbH", number="K-10001", vat_id=None),
        billing=SimpleNamespace(recipient=None, street="Hauptstraße 1", street2=None, postal_code="70173",
                                city="Stuttgart", country="DE"),
        contact=None, salutation="Sehr geehrte Damen und Herren,", site=None, delivery=None, salesperson=None,
        title="Rechnung RE-2026-0001", heading="Rechnung RE-2026-0001", meta=[("Rechnungsnummer", "RE-2026-0001")],
        intro=None, closing=None, lines=rows, columns=line_columns(rows, t, period=period, discount=False),
        totals=totals_context(fmt, lines_net=Decimal("100"), header_discount=Decimal("0"),
                              header_discount_percent=Decimal("0"), net_total=Decimal("100.00"),
                              tax_groups=[(Decimal("19"), Decimal("60.00"), Decimal("11.40")),
                                          (Decimal("7"), Decimal("40.00"), Decimal("2.80"))],
                              gross_total=Decimal("114.20")),
        notes=[payment_terms(t, fmt, 14, Decimal("2"), 7), tax_note(t, "eu_reverse_charge")])


def html_of(context: dict) -> str:
    return environment().get_template("letter.html").render(**context)


@pytest.mark.parametrize("variant", [None, "pdf/a-3b"])
def test_a_minimal_document_with_a_service_period_column_renders(variant):
    content = render_pdf(html_of(letter()), pdf_variant=variant)
    (page,) = pdf_pages(content)
    for needed in ("Rechnung RE-2026-0001", "Leistungszeitraum", "1.–30. Nov. 2026", "Wartung 3",
                   "SRV-2 · Wartung der Anlage laut Vertrag", "3 Stunden", "285,00 €", "Umsatzsteuer 19 % auf 60,00 €",
                   "11,40 €", "Umsatzsteuer 7 % auf 40,00 €", "Gesamtbetrag 114,20 €",
                   "zahlbar innerhalb von 14 Tagen netto; 2 % Skonto bei Zahlung innerhalb von 7 Tagen",
                   "Steuerschuldnerschaft des Leistungsempfängers", "USt-IdNr. DE123456788", "Seite 1 / 1"):
        assert needed in page, needed
    xmp = PdfReader(io.BytesIO(content)).xmp_metadata
    assert (xmp is not None and b"pdfaid:part" in xmp.stream.get_data()) == (variant == "pdf/a-3b")


def test_an_invoice_carries_its_xml_as_an_attachment_of_the_pdf_a_3b():
    from weasyprint import Attachment

    xml = b"<rsm:CrossIndustryInvoice>RE-2026-0001</rsm:CrossIndustryInvoice>"
    content = render_pdf(html_of(letter(1)), pdf_variant="pdf/a-3b",
                         attachments=[Attachment(string=xml, name="factur-x.xml", relationship="Data")])
    assert PdfReader(io.BytesIO(content)).attachments == {"factur-x.xml": [xml]}


def test_without_the_period_column_the_table_has_none_and_english_words_come_with_english_figures():
    context = letter(period=False, lang="en")
    assert [c.key for c in context["columns"]] == ["position", "item", "quantity", "unit_price", "tax_rate", "net"]
    (page,) = pdf_pages(render_pdf(html_of(context)))
    assert "Service period" not in page and "Nov 2026" not in page
    assert "3 hours" in page and "€285.00" in page and "Total €114.20" in page


def test_a_document_extends_the_letter_and_fills_its_blocks(tmp_path):
    (tmp_path / "dunning.html").write_text(
        '{% extends "letter.html" %}{% block heading %}Zahlungserinnerung {{ number }}{% endblock %}'
        '{% block notes %}<p>Bitte zahlen Sie bis zum {{ due }}.</p>{% endblock %}')
    context = letter(2)
    del context["notes"]  # the document's own block needs no notes
    html = environment(tmp_path).get_template("dunning.html").render(**context, number="MA-1", due="<b>heute</b>")
    (page,) = pdf_pages(render_pdf(html))
    assert "Zahlungserinnerung MA-1" in page and "Bitte zahlen Sie bis zum <b>heute</b>." in page
    assert "Wartung 2" in page and "Gesamtbetrag 114,20 €" in page and "Skonto" not in page


def test_the_letters_own_user_agent_stylesheet_draws_the_same_pages_as_weasyprints_full_one():
    """letter-ua.css is WeasyPrint's user-agent stylesheet cut down for speed: every page is drawn
    alike, to the byte (a heading left unbolded or a margin missed would change the drawing)."""
    for context in (letter(12), letter(2, period=False, lang="en", description=None)):
        context["intro"], context["closing"] = "Wir berechnen Ihnen:", "Vielen Dank."
        html = html_of(context)
        drawn = [[page.get_contents().get_data() for page in PdfReader(io.BytesIO(pdf)).pages]
                 for pdf in (render.letter_html(html).write_pdf(),
                             render.letter_html(html, full_user_agent_stylesheet=True).write_pdf())]
        assert len(drawn[0]) == len(drawn[1]) and drawn[0] == drawn[1]
    own = render.letter_html("<p>x</p>")._ua_stylesheets()
    assert [sheet.base_url for sheet in own] == [render.USER_AGENT_STYLESHEET.as_uri()]


def test_an_unknown_pdf_variant_is_refused():
    with pytest.raises(ValueError, match="unknown PDF variant"):
        render_pdf("<p>x</p>", pdf_variant="pdf/x-4")


def test_the_heading_row_repeats_and_the_totals_never_stand_alone_on_a_page():
    """For every length around a page's end, the page with the totals also holds the last line."""
    split = False
    for count in range(9, 17):
        pages = pdf_pages(render_pdf(html_of(letter(count, name="Zeile"))))
        for page in (page for page in pages if "Zeile" in page):
            assert "Pos. Leistung Leistungszeitraum Menge Einzelpreis USt. Netto" in page, (count, page[:300])
        with_totals = [page for page in pages if "Nettobetrag" in page]
        assert len(with_totals) == 1 and f"Zeile {count} " in with_totals[0], (count, with_totals)
        split |= len(pages) > 1 and "Zeile 1 " not in with_totals[0]
    assert split  # some of these lengths do take the totals to a second page


# ------------------------------------------------------------------------------------------ the fetcher
OUTSIDE = ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/a.css", "ftp://example.com/a.css",
           "data:text/css,body{}", "data:image/png;base64,iVBORw0KGgo=", (ASSETS / ".." / "render.py").as_uri(),
           (ASSETS / "letter.css").as_uri() + "/../../render.py",
           ASSETS.as_uri() + "/%2e%2e/render.py", ASSETS.as_uri() + "/%2E%2E/%2E%2E/module.py",
           "file://evil.example" + ASSETS.as_posix() + "/letter.css",
           ASSETS.as_uri() + "/letter.css%00.png", ASSETS.as_uri(), "letter.css", "/etc/passwd"]


@pytest.mark.parametrize("url", OUTSIDE)
def test_the_fetcher_serves_nothing_but_the_assets(url):
    with pytest.raises(FetchRefused):
        own_asset(url)


def test_the_fetcher_serves_the_stylesheet():
    content, mime = own_asset((ASSETS / "letter.css").as_uri())
    assert mime == "text/css" and b"@page" in content
    assert own_asset("file://localhost" + quote((ASSETS / "letter.css").as_posix()))[0] == content


def test_a_link_out_of_the_assets_folder_and_a_file_of_another_type_are_refused(tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    assets.mkdir()
    (tmp_path / "secret.css").write_text("body { color: red }")
    (assets / "linked.css").symlink_to(tmp_path / "secret.css")
    (assets / "notes.txt").write_text("not an asset")
    (assets / "own.css").write_text("p { margin: 0 }")
    monkeypatch.setattr(render, "ASSETS", assets.resolve())
    assert own_asset((assets / "own.css").as_uri()) == (b"p { margin: 0 }", "text/css")
    for name in ("linked.css", "notes.txt", "missing.css"):
        with pytest.raises(FetchRefused):
            own_asset((assets / name).as_uri())


@pytest.fixture
def http_server():
    """A loopback web server that counts every request it gets."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


def test_whatever_a_document_names_the_renderer_asks_the_fetcher_and_the_fetcher_refuses(http_server, monkeypatch):
    """HTML that names outside resources in every way WeasyPrint fetches (stylesheet link, @import,
    url() in a style attribute, images, an embedded object): each URL reaches the fetcher, each is
    refused, the web server is never asked, and the PDF still renders."""
    port, hits = http_server
    base = f"http://127.0.0.1:{port}"
    asked, refused = [], []

    def recording(url):
        asked.append(url)
        try:
            return own_asset(url)
        except FetchRefused:
            refused.append(url)
            raise

    monkeypatch.setattr(render, "own_asset", recording)
    html = (f'<html><head><link rel="stylesheet" href="{base}/a.css"><link rel="stylesheet" href="letter.css">'
            f'<style>@import url("{base}/b.css"); @import url("file:///etc/passwd");</style></head>'
            f'<body><p style="background: url({base}/c.png)">Text</p><img src="file:///etc/passwd">'
            f'<img src="../render.py"><img src="data:image/png;base64,iVBORw0KGgo="><object data="{base}/d"></object>'
            f'</body></html>')
    pages = pdf_pages(render_pdf(html))
    assert "Text" in pages[0] and "root:" not in " ".join(pages)
    assert hits == []
    assert (ASSETS / "letter.css").as_uri() in asked and (ASSETS / "letter.css").as_uri() not in refused
    for url in (f"{base}/a.css", f"{base}/b.css", "file:///etc/passwd", f"{base}/c.png",
                (ASSETS.parent / "render.py").as_uri()):
        assert url in refused, (url, asked)
    assert any(url.startswith("data:") for url in refused), asked


def test_user_text_that_names_urls_prints_as_text_and_fetches_nothing(http_server, monkeypatch):
    port, hits = http_server
    asked = []
    monkeypatch.setattr(render, "own_asset", lambda url: asked.append(url) or own_asset(url))
    hostile = (f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"><img src="file:///etc/passwd">'
               f'<style>@import url(http://127.0.0.1:{port}/y.css)</style>')
    context = letter(1, description=hostile)
    context["customer"] = SimpleNamespace(name=f'<img src="http://127.0.0.1:{port}/t.png"> & Co', number="K-1",
                                          vat_id=None)
    html = html_of(context)
    assert "<img" not in html.split("<body", 1)[1] and "&lt;link rel=" in html
    (page,) = pdf_pages(render_pdf(html))
    assert f'<img src="http://127.0.0.1:{port}/t.png"> & Co' in page, page
    assert '<link rel="stylesheet"' in page and "passwd" in page and "y.css" in page, page
    assert hits == [] and asked == [(ASSETS / "letter.css").as_uri()]


# ------------------------------------------------------------------------------------------ the parts
def test_figure_columns_are_as_wide_as_their_widest_text_and_the_item_takes_the_rest():
    t = LETTER_TEXTS["de"]
    narrow = line_columns([{"quantity": "1", "unit_price": "1,00 €", "tax_rate": "7 %", "net": "1,00 €"}], t)
    wide = line_columns([{"quantity": "1", "unit_price": "1.234.567,89 €", "tax_rate": "7 %", "net": "1,00 €"}], t)
    width = {c.key: c.width_mm for c in narrow}
    wider = {c.key: c.width_mm for c in wide}
    assert width["item"] is None and wider["item"] is None
    assert wider["unit_price"] > width["unit_price"] >= text_width_mm("Einzelpreis", 8.5)
    assert wider["unit_price"] >= text_width_mm("1.234.567,89 €", 9.5) and wider["net"] == width["net"]
    assert [c.key for c in narrow] == ["position", "item", "quantity", "unit_price", "discount", "tax_rate", "net"]
    assert [c.figure for c in narrow] == [False, False, True, True, True, True, True]
    crowded = line_columns([{key: "9" * 40 for key in ("quantity", "unit_price", "tax_rate", "net", "period")}], t,
                           period=True)
    assert CONTENT_WIDTH_MM - sum(c.width_mm or 0 for c in crowded) >= MIN_ITEM_MM - 0.5


def test_words_and_languages():
    assert document_language("en") == "en" and document_language("fr") == "de" and document_language(None) == "de"
    both = words({"de": {"doc": "Rechnung", "net": "Netto!"}, "en": {"doc": "Invoice"}})
    assert both["de"]["doc"] == "Rechnung" and both["de"]["net"] == "Netto!" and both["en"]["net"] == "Net"
    with pytest.raises(ValueError, match="lack the languages"):
        words({"de": {}})
    assert tax_note(LETTER_TEXTS["de"], "domestic") is None and tax_note(LETTER_TEXTS["en"], None) is None
    fmt = Formats("en", "EUR")
    assert payment_terms(LETTER_TEXTS["en"], fmt, 30, None, None) == "payable within 30 days net"
    assert fmt.period(date(2026, 12, 5)) == "5 Dec 2026"
    assert fmt.period(date(2026, 11, 15), date(2027, 1, 14)) == "15 Nov 2026\u2009–\u200914 Jan 2027"
