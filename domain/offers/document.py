"""The offer as PDF: a Jinja2 template (autoescaped; German or English by the offer's language) rendered
by WeasyPrint. WeasyPrint fetches only the project's own assets: any other URL in the document (a
customer name with <img src="file:///etc/passwd">, an http:// link) is refused, never fetched."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlparse

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers.models import Address, Contact, Customer
from domain.customers.recipients import display_name
from domain.offers.content import lines_of, totals_of
from domain.offers.models import Offer
from domain.offers.settings import OfferSettings
from domain.users import User

ASSETS = (Path(__file__).parent / "assets").resolve()
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True), undefined=StrictUndefined)
LOCALES = {"de": "de_DE", "en": "en_GB"}
TEXTS = {
    "de": {"offer": "Angebot", "page": "Seite", "offer_number": "Angebotsnummer", "date": "Datum",
           "valid_until": "Gültig bis", "customer_number": "Kundennummer", "your_vat_id": "Ihre USt-IdNr.",
           "contact_person": "Ansprechpartner", "pos": "Pos.", "item": "Leistung", "quantity": "Menge",
           "unit_price": "Einzelpreis", "discount": "Rabatt", "tax": "USt.", "net": "Netto",
           "lines_total": "Summe der Positionen", "header_discount": "Rabatt", "net_total": "Nettobetrag",
           "vat": "Umsatzsteuer", "on": "auf", "gross_total": "Gesamtbetrag", "payment_terms": "Zahlungsbedingungen",
           "delivery_terms": "Lieferbedingungen", "validity_note": "Dieses Angebot ist gültig bis zum",
           "managing_directors": "Geschäftsführung", "vat_id": "USt-IdNr.",
           "net_days": "zahlbar innerhalb von {days} Tagen netto",
           "skonto": "{percent} Skonto bei Zahlung innerhalb von {days} Tagen",
           "eu_reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG).",
           "export": "Steuerfreie Ausfuhrlieferung bzw. nicht im Inland steuerbare Leistung."},
    "en": {"offer": "Offer", "page": "Page", "offer_number": "Offer number", "date": "Date",
           "valid_until": "Valid until", "customer_number": "Customer number", "your_vat_id": "Your VAT ID",
           "contact_person": "Your contact", "pos": "Item", "item": "Service", "quantity": "Quantity",
           "unit_price": "Unit price", "discount": "Discount", "tax": "VAT", "net": "Net",
           "lines_total": "Sum of items", "header_discount": "Discount", "net_total": "Net amount",
           "vat": "VAT", "on": "on", "gross_total": "Total", "payment_terms": "Payment terms",
           "delivery_terms": "Delivery terms", "validity_note": "This offer is valid until",
           "managing_directors": "Managing directors", "vat_id": "VAT ID",
           "net_days": "payable within {days} days net",
           "skonto": "{percent} early payment discount within {days} days",
           "eu_reverse_charge": "Reverse charge: VAT to be accounted for by the recipient (Art. 196 VAT Directive).",
           "export": "Tax-exempt export or service not taxable in Germany."},
}


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


def offer_html(session: Session, settings: OfferSettings, offer: Offer) -> str:
    lang = offer.language if offer.language in TEXTS else "de"
    locale, t = LOCALES[lang], TEXTS[lang]
    lines = lines_of(session, offer.id)
    totals = totals_of(offer, lines)
    customer = session.get(Customer, offer.customer_id)
    address = session.get(Address, offer.billing_address_id) if offer.billing_address_id else None
    contact = session.get(Contact, offer.contact_id) if offer.contact_id else None
    salesperson = session.scalar(select(User).where(User.username == offer.created_by))

    def money(amount: Decimal) -> str:
        return format_currency(amount, offer.currency, locale=locale)

    def number(value: Decimal) -> str:
        return format_decimal(value, format="#,##0.####", locale=locale)

    def percent(value: Decimal) -> str:
        return f"{number(value)} %"

    payment = t["net_days"].format(days=offer.payment_days)
    if offer.skonto_percent and offer.skonto_days:
        payment += "; " + t["skonto"].format(percent=percent(offer.skonto_percent), days=offer.skonto_days)
    return _TEMPLATES.get_template("offer.html").render(
        lang=lang, t=t, offer=offer, customer=customer, company_country=settings.company_country,
        company={"name": settings.company_name, "address": settings.company_address, "phone": settings.company_phone,
                 "email": settings.company_email, "vat_id": settings.company_vat_id,
                 "register": settings.company_register, "managing_directors": settings.company_managing_directors,
                 "bank": settings.company_bank},
        billing=address or _NO_ADDRESS, contact=display_name(contact) if contact else None,
        salesperson=(salesperson.full_name or salesperson.username) if salesperson else None,
        issued_on=format_date((offer.submitted_at or offer.created_at).date(), format="long", locale=locale),
        valid_until=format_date(offer.valid_until, format="long", locale=locale),
        lines=[{"position": line.position, "name": line.name, "sku": line.sku, "description": line.description,
                "quantity": number(line.quantity), "unit": line.unit, "unit_price": money(line.unit_price),
                "discount": percent(line.discount_percent) if line.discount_percent else "",
                "tax_rate": percent(line.tax_rate), "net": money(line.net)} for line in lines],
        lines_net=money(totals.lines_net), header_discount=money(totals.header_discount) if totals.header_discount
        else None, header_discount_percent=percent(offer.header_discount_percent),
        net_total=money(totals.net_total), gross_total=money(totals.gross_total),
        tax_groups=[{"rate": percent(g.rate), "net": money(g.net), "tax": money(g.tax)} for g in totals.tax_groups],
        payment_terms=payment, tax_note=t.get(offer.tax_treatment) if offer.tax_treatment != "domestic" else None)


def render_pdf(html: str) -> bytes:
    """Slow (about half a second): call it outside any transaction."""
    from weasyprint import HTML

    return HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=asset_fetcher()).write_pdf()


def pdf_filename(offer: Offer) -> str:
    prefix = "Angebot" if offer.language == "de" else "Offer"
    return f"{prefix}_{offer.label}.pdf"
