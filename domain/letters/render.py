"""Letters as PDF: the Jinja2 environment documents write their letters in, and WeasyPrint with a
URL fetcher that serves the letter's own assets and nothing else.

Customer data is text: the templates autoescape, so a customer named `<img src="file:///etc/passwd">`
prints that name. And whatever a document's HTML names (a stylesheet, an image, a font, an
`@import`), the fetcher serves only files of the assets folder (the stylesheet, and later logos and
fonts); any other file, any network URL and any `data:` URL is refused, never opened.

Rendering is slow (a 100-line document of 8 pages takes about half a second on this project's
machines at their usual speed): call `render_pdf` outside any transaction, in a worker, never in a
request. What keeps it at that: the table of lines has fixed column widths (columns.py), the rules between lines are
one rectangle per row (letter.css), the user-agent stylesheet is cut down to the elements a letter
uses (letter-ua.css), and each thread keeps its font configuration from one document to the next."""
from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

ASSETS = (Path(__file__).parent / "assets").resolve()
TEMPLATES = (Path(__file__).parent / "templates").resolve()
STYLESHEET = "letter.css"
USER_AGENT_STYLESHEET = ASSETS / "letter-ua.css"
ASSET_TYPES = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".ttf": "font/ttf",
               ".otf": "font/otf", ".woff2": "font/woff2"}
PDF_VARIANTS = (None, "pdf/a-3b")


class FetchRefused(ValueError):
    """A document named something to fetch that is not one of the letter's own assets."""


def own_asset(url: str) -> tuple[bytes, str]:
    """(content, media type) of a file of the assets folder, named by a `file:` URL without a host;
    anything else (another file, a path that leaves the folder by `..`, a link or %-escapes, any
    network URL, `data:` URLs, another file type) is refused."""
    parsed = urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise FetchRefused(f"refused to fetch {url[:100]!r}: only the document's own assets are served")
    raw = unquote(parsed.path)
    if "\x00" in raw:
        raise FetchRefused(f"refused to fetch {url[:100]!r}: not a file name")
    path = Path(raw).resolve()
    if not path.is_relative_to(ASSETS) or not path.is_file():
        raise FetchRefused(f"refused to fetch {url[:100]!r}: not one of the document's own assets")
    mime = ASSET_TYPES.get(path.suffix.lower())
    if mime is None:
        raise FetchRefused(f"refused to fetch {url[:100]!r}: not an asset type")
    return path.read_bytes(), mime


def asset_fetcher():
    """WeasyPrint's URL fetcher for letters: serves own_asset(), never touches a file elsewhere or
    the network (it opens nothing itself, so no handler of urllib's ever runs)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OwnAssetsFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            content, mime = own_asset(url)
            return URLFetcherResponse(url, body=content, headers={"Content-Type": mime})

        def open(self, url, data=None, timeout=None):
            return self.fetch(url if isinstance(url, str) else url.full_url)

    return OwnAssetsFetcher(allowed_protocols=("file",), allow_redirects=False)


def environment(*folders: Path) -> Environment:
    """The Jinja2 environment a document writes its letter in: its own template folders first, then
    the letter's (so its template can `{% extends "letter.html" %}`); autoescaped, and a name the
    template uses but the context lacks is an error, not an empty text."""
    loader = ChoiceLoader([FileSystemLoader(folder) for folder in (*folders, TEMPLATES)])
    return Environment(loader=loader, autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


_FONTS = threading.local()


@functools.cache
def _user_agent_stylesheet():
    from weasyprint import CSS

    return CSS(filename=str(USER_AGENT_STYLESHEET))


def letter_html(html: str, *, full_user_agent_stylesheet: bool = False):
    """WeasyPrint's HTML for a letter: relative URLs resolve into the assets folder, the fetcher serves
    only those, and the user-agent stylesheet is the letter's own (letter-ua.css) unless the full
    one is asked for (the tests compare the two)."""
    from weasyprint import HTML

    class LetterHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            if full_user_agent_stylesheet:
                return super()._ua_stylesheets(forms)
            return [_user_agent_stylesheet()]

    return LetterHTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=asset_fetcher())


def _font_config():
    """One WeasyPrint font configuration per thread, kept between documents: fonts are looked up and
    loaded once, not for every document (Pango's font map is not shared between threads)."""
    from weasyprint.text.fonts import FontConfiguration

    config = getattr(_FONTS, "config", None)
    if config is None:
        config = _FONTS.config = FontConfiguration()
    return config


def render_pdf(html: str, *, pdf_variant: str | None = None, attachments: Sequence[Any] = ()) -> bytes:
    """The PDF of a letter's HTML: plain, or `pdf_variant="pdf/a-3b"` (PDF/A-3b, as e-invoices need;
    `attachments` are weasyprint.Attachment objects, such as the invoice's factur-x.xml).
    Slow: call it outside any transaction."""
    if pdf_variant not in PDF_VARIANTS:
        raise ValueError(f"unknown PDF variant {pdf_variant!r}; one of {PDF_VARIANTS}")
    return letter_html(html).write_pdf(pdf_variant=pdf_variant, attachments=list(attachments) or None,
                                       font_config=_font_config())
