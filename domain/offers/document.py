"""The offer and the order confirmation as PDF: one Jinja2 letter template (autoescaped; German or
English by the offer's language; amounts, quantities, units and dates through kernel.formatting)
rendered by WeasyPrint. WeasyPrint fetches only the project's own assets: any other URL in the document (a
customer name with <img src="file:///etc/passwd">, an http:// link) is refused, never fetched."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.letters import delivery_place, salutation
from domain.customers.models import Address, Contact, Customer
from domain.customers.recipients import display_name
from domain.offers.content import lines_of
from domain.offers.document_texts import TEXTS
from domain.offers.models import Offer
from domain.offers.settings import OfferSettings
from domain.offers.totals import LineFigures, offer_totals
from domain.orders.models import Order, OrderLine
from domain.users import User
from kernel import formatting

ASSETS = (Path(__file__).parent / "assets").resolve()
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True), undefined=StrictUndefined)
LOCALES = formatting.LOCALES


_NO_ADDRESS = SimpleNamespace(recipient=None, street=None, street2=None, postal_code=None, city=None, country=None)


class FetchRefused(ValueError):
    pass


def own_asset(url: str) -> tuple[bytes, str]:
    """(content, media type) of a file of the assets folder; anything else (another file, any network
    URL, data: URLs) is refused."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise FetchRefused(f"refused to fetch {url[:100]!r}: only the document's own assets are served")
    path = Path(unquote(parsed.path)).resolve()
    if not path.is_relative_to(ASSETS) or not path.is_file():
        raise FetchRefused(f"refused to fetch {url[:100]!r}: not one of the document's own assets")
    suffix = path.suffix.lower()
    mime = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".ttf": "font/ttf"}.get(suffix)
    if mime is None:
        raise FetchRefused(f"refused to fetch {url[:100]!r}: not an asset type")
    return path.read_bytes(), mime


def asset_fetcher():
    """WeasyPrint's URL fetcher for offers: serves own_asset(), never touches the network."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OwnAssetsFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            content, mime = own_asset(url)
            return URLFetcherResponse(url, body=content, headers={"Content-Type": mime})

    return OwnAssetsFetcher(allowed_protocols=("file",), allow_redirects=False)


@dataclass(frozen=True)
class RenderedOffer:
    filename: str
    content: bytes


def salesperson_of(session: Session, username: str) -> dict | None:
    """The person who speaks for the company on the document: name, phone and e-mail. A user name is
    no name for customers: without a stored name, the document gives phone and e-mail only."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not (user.full_name or user.phone or user.email):
        return None
    return {"name": user.full_name, "phone": user.phone, "email": user.email}


def _letter(session: Session, settings: OfferSettings, record: Offer | Order, lines: list, lang: str,
            salesperson_username: str) -> dict:
    """What the offer and the order confirmation print alike: letterhead, addressee, salutation,
    delivery place, salesperson, the lines with their units in the document's language, the sums and
    the payment terms."""
    t = TEXTS[lang]
    customer = session.get(Customer, record.customer_id)
    address = session.get(Address, record.billing_address_id) if record.billing_address_id else None
    contact = session.get(Contact, record.contact_id) if record.contact_id else None
    place = delivery_place(session, record.customer_id, record.site_id, record.delivery_address_id)
    totals = offer_totals([LineFigures(line.quantity, line.unit_price, line.discount_percent, line.tax_rate)
                           for line in lines], record.header_discount_percent)

    def money(amount: Decimal) -> str:
        return formatting.money(amount, record.currency, lang)

    def percent(value: Decimal) -> str:
        return formatting.percent(value, lang)

    payment = t["net_days"].format(days=record.payment_days)
    if record.skonto_percent and record.skonto_days:
        payment += "; " + t["skonto"].format(percent=percent(record.skonto_percent), days=record.skonto_days)
    return dict(
        lang=lang, t=t, customer=customer, company_country=settings.company_country,
        company={"name": settings.company_name, "address": settings.company_address, "phone": settings.company_phone,
                 "email": settings.company_email, "vat_id": settings.company_vat_id,
                 "register": settings.company_register, "managing_directors": settings.company_managing_directors,
                 "bank": settings.company_bank},
        billing=address or _NO_ADDRESS, contact=display_name(contact) if contact else None,
        salutation=salutation(contact, lang), site=place.site,
        delivery=place.address,
        salesperson=salesperson_of(session, salesperson_username),
        lines=[{"position": line.position, "name": line.name, "sku": line.sku, "description": line.description,
                "quantity": formatting.with_unit(line.quantity, line.unit, lang), "unit_price": money(line.unit_price),
                "discount": percent(line.discount_percent) if line.discount_percent else "",
                "tax_rate": percent(line.tax_rate), "net": money(line.net)} for line in lines],
        lines_net=money(totals.lines_net), header_discount=money(totals.header_discount) if totals.header_discount
        else None, header_discount_percent=percent(record.header_discount_percent),
        net_total=money(totals.net_total), gross_total=money(totals.gross_total),
        tax_groups=[{"rate": percent(g.rate), "net": money(g.net), "tax": money(g.tax)} for g in totals.tax_groups],
        payment_terms=payment, delivery_terms=record.delivery_terms,
        tax_note=t.get(record.tax_treatment) if record.tax_treatment != "domestic" else None)


def document_language(language: str | None) -> str:
    return language if language in TEXTS else "de"


def offer_html(session: Session, settings: OfferSettings, offer: Offer) -> str:
    lang = document_language(offer.language)
    t = TEXTS[lang]
    letter = _letter(session, settings, offer, lines_of(session, offer.id), lang, offer.created_by)
    valid_until = formatting.day(offer.valid_until, lang)
    meta = [(t["offer_number"], offer.label),
            (t["date"], formatting.day((offer.submitted_at or offer.created_at).date(), lang)),
            (t["valid_until"], valid_until)]
    return _TEMPLATES.get_template("letter.html").render(
        **letter, title=f"{t['offer']} {offer.label}", heading=f"{t['offer']} {offer.label}: {offer.title}",
        meta=meta, intro=offer.intro_text, closing=offer.closing_text,
        validity=f"{t['validity_note']} {valid_until}.")


def order_lines_of(session: Session, order_id: int) -> list[OrderLine]:
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                .order_by(OrderLine.position)))


def order_confirmation_html(session: Session, settings: OfferSettings, order: Order, offer: Offer) -> str:
    """The order confirmation: the order's lines and terms as agreed, in the offer's language and look."""
    lang = document_language(order.language)
    t = TEXTS[lang]
    letter = _letter(session, settings, order, order_lines_of(session, order.id), lang, offer.created_by)
    accepted = formatting.day((offer.answered_at or order.created_at).date(), lang)
    meta = [(t["order_number"], order.number), (t["date"], formatting.day(order.created_at.date(), lang)),
            (t["offer_ref"], offer.label)]
    return _TEMPLATES.get_template("letter.html").render(
        **letter, title=f"{t['order']} {order.number}", heading=f"{t['order']} {order.number}: {order.title}",
        meta=meta, intro=t["order_intro"].format(offer=offer.label, accepted=accepted), closing=None, validity=None)


def render_pdf(html: str) -> bytes:
    """Slow (about half a second): call it outside any transaction."""
    from weasyprint import HTML

    return HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=asset_fetcher()).write_pdf()


def pdf_filename(offer: Offer) -> str:
    prefix = "Angebot" if offer.language == "de" else "Offer"
    return f"{prefix}_{offer.label}.pdf"


def confirmation_filename(order: Order) -> str:
    prefix = "Auftragsbestaetigung" if order.language == "de" else "Order_confirmation"
    return f"{prefix}_{order.number}.pdf"
