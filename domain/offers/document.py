"""The offer and the order confirmation as PDF: the company's letter (domain.letters: letterhead,
addressee, info block, table of lines, totals with tax per rate, footer) in the offer's language,
with the offer's terms as notes, rendered by the letter's renderer (which fetches nothing but the
letter's own assets)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.letters.columns import line_columns
from domain.letters.context import Formats, letter_context, payment_terms, salesperson_of, tax_note, totals_context
from domain.letters.render import ASSETS, FetchRefused, asset_fetcher, environment, own_asset, render_pdf
from domain.letters.texts import document_language
from domain.offers.content import lines_of
from domain.offers.document_texts import TEXTS
from domain.offers.models import Offer
from domain.offers.settings import OfferSettings
from domain.offers.totals import LineFigures, offer_totals
from domain.orders.models import Order, OrderLine
from kernel import formatting

# The letter's renderer and fetcher, named here as before for the offer's callers.
__all__ = ["ASSETS", "FetchRefused", "RenderedOffer", "asset_fetcher", "confirmation_filename", "document_language",
           "offer_html", "order_confirmation_html", "own_asset", "pdf_filename", "render_pdf", "salesperson_of"]

_TEMPLATES = environment(Path(__file__).parent / "templates")
LOCALES = formatting.LOCALES


@dataclass(frozen=True)
class RenderedOffer:
    filename: str
    content: bytes


def _letter(session: Session, settings: OfferSettings, record: Offer | Order, lines: list, lang: str,
            salesperson_username: str) -> dict:
    """What the offer and the order confirmation print alike: the letter's parts (letterhead,
    addressee, salutation, delivery place, salesperson), the lines with their units in the
    document's language, the sums and the terms."""
    t = TEXTS[lang]
    fmt = Formats(lang, record.currency)
    totals = offer_totals([LineFigures(line.quantity, line.unit_price, line.discount_percent, line.tax_rate)
                           for line in lines], record.header_discount_percent)
    rows = [{"position": line.position, "name": line.name, "sku": line.sku, "description": line.description,
             "quantity": fmt.quantity(line.quantity, line.unit), "unit_price": fmt.money(line.unit_price),
             "discount": fmt.percent(line.discount_percent) if line.discount_percent else "",
             "tax_rate": fmt.percent(line.tax_rate), "net": fmt.money(line.net)} for line in lines]
    return dict(
        letter_context(session, settings, record, lang, salesperson_username), t=t,
        lines=rows, columns=line_columns(rows, t, discount=any(line.discount_percent for line in lines)),
        totals=totals_context(fmt, lines_net=totals.lines_net, header_discount=totals.header_discount,
                              header_discount_percent=record.header_discount_percent, net_total=totals.net_total,
                              tax_groups=[(g.rate, g.net, g.tax) for g in totals.tax_groups],
                              gross_total=totals.gross_total),
        payment_terms=payment_terms(t, fmt, record.payment_days, record.skonto_percent, record.skonto_days),
        delivery_terms=record.delivery_terms, tax_note=tax_note(t, record.tax_treatment))


def offer_html(session: Session, settings: OfferSettings, offer: Offer) -> str:
    lang = document_language(offer.language)
    t = TEXTS[lang]
    letter = _letter(session, settings, offer, lines_of(session, offer.id), lang, offer.created_by)
    valid_until = formatting.day(offer.valid_until, lang)
    meta = [(t["offer_number"], offer.label),
            (t["date"], formatting.day((offer.submitted_at or offer.created_at).date(), lang)),
            (t["valid_until"], valid_until)]
    return _TEMPLATES.get_template("offer.html").render(
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
    return _TEMPLATES.get_template("offer.html").render(
        **letter, title=f"{t['order']} {order.number}", heading=f"{t['order']} {order.number}: {order.title}",
        meta=meta, intro=t["order_intro"].format(offer=offer.label, accepted=accepted), closing=None, validity=None)


def pdf_filename(offer: Offer) -> str:
    prefix = "Angebot" if offer.language == "de" else "Offer"
    return f"{prefix}_{offer.label}.pdf"


def confirmation_filename(order: Order) -> str:
    prefix = "Auftragsbestaetigung" if order.language == "de" else "Order_confirmation"
    return f"{prefix}_{order.number}.pdf"
