"""The customer's answer page, outside the authenticated API: the signed link from the offer mail
shows the offer and lets the customer accept or decline once. Looking at the page changes nothing
(mail scanners open links); only the form's POST answers."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import KontorDep, SessionDep
from api.downloads import content_disposition
from domain.offers.answers import LinkCheck, answer_by_link, check_link
from kernel import formatting
from kernel.documents import DocumentStore
from kernel.errors import KontorError

router = APIRouter(prefix="/o", include_in_schema=False)
_PAGES = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                     autoescape=select_autoescape(default=True))
TEXTS = {
    "de": {"title": "Angebot", "total": "Gesamtbetrag", "valid_until": "gültig bis", "pdf": "Angebot als PDF",
           "reason": "Anmerkung (bei einer Absage gern der Grund):", "accept": "Angebot annehmen",
           "decline": "Angebot ablehnen", "accepted": "Vielen Dank! Ihre Zusage ist bei uns eingegangen.",
           "declined": "Vielen Dank für Ihre Rückmeldung. Ihre Absage ist bei uns eingegangen.",
           "invalid": "Dieser Link ist nicht gültig.", "used": "Dieser Link wurde bereits verwendet.",
           "answered_accept": "Dieser Link wurde bereits verwendet: Sie haben dieses Angebot am {date} um {time} Uhr "
                              "angenommen.",
           "answered_decline": "Dieser Link wurde bereits verwendet: Sie haben dieses Angebot am {date} um {time} Uhr "
                               "abgelehnt.",
           "expired": "Die Gültigkeit dieses Angebots ist abgelaufen.",
           "closed": "Dieses Angebot ist nicht mehr offen.",
           "busy": "Ihre vorige Antwort wird gerade bearbeitet. Bitte versuchen Sie es später noch einmal "
                   "oder antworten Sie auf unsere E-Mail."},
    "en": {"title": "Offer", "total": "Total", "valid_until": "valid until", "pdf": "Offer as PDF",
           "reason": "Note (for a decline, the reason is welcome):", "accept": "Accept the offer",
           "decline": "Decline the offer", "accepted": "Thank you! We have received your acceptance.",
           "declined": "Thank you for letting us know. We have received your decline.",
           "invalid": "This link is not valid.", "used": "This link was used already.",
           "answered_accept": "This link was used already: you accepted this offer on {date} at {time}.",
           "answered_decline": "This link was used already: you declined this offer on {date} at {time}.",
           "expired": "The offer's validity has ended.", "closed": "This offer is no longer open for an answer.",
           "busy": "Your previous reply is being looked at. Please try again later or reply to our e-mail."},
}


def page_policy(nonce: str) -> str:
    """What the page needs and nothing else: its one inline style (by nonce) and its form posting
    to itself; no script, no image, no outside resource, never in a frame."""
    return (f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")


def _answered(kontor, check, lang: str) -> str | None:
    """What the customer answered through this link, and when (local time): a used link says so
    rather than only that it is used."""
    link = check.link
    if check.problem != "used" or link is None or link.used_at is None or link.used_for not in ("accept", "decline"):
        return None
    when = link.used_at.astimezone(ZoneInfo(kontor.settings.company_timezone))
    return TEXTS[lang][f"answered_{link.used_for}"].format(date=formatting.day(when, lang),
                                                          time=formatting.time_of_day(when, lang))


def _page(kontor, token: str, check, status: int = 200, done: str | None = None, form: bool = False) -> HTMLResponse:
    offer = check.offer
    nonce = secrets.token_urlsafe(16)
    lang = offer.language if offer is not None and offer.language in TEXTS else "de"
    answered = None if done else _answered(kontor, check, lang)
    problem = TEXTS[lang][check.problem] if check.problem and not done and not answered else None
    html = _PAGES.get_template("offer_answer.html").render(
        lang=lang, t=TEXTS[lang], company=kontor.settings.company_name, offer=offer, nonce=nonce,
        problem=problem, answered=answered, done=done, form=form, action=f"/o/{token}", pdf_url=f"/o/{token}/pdf",
        show_pdf=offer is not None and offer.pdf_document_id is not None and check.link is not None,
        total=formatting.money(offer.gross_total, offer.currency, lang) if offer else "",
        valid_until=formatting.day(offer.valid_until, lang) if offer else "")
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Content-Security-Policy": page_policy(nonce)})


def _status(check) -> int:
    if check.link is None:
        return 404
    return 200 if check.problem is None else 410


@router.get("/{token}", response_class=HTMLResponse)
def show(token: str, session: SessionDep, kontor: KontorDep):
    check = check_link(session, kontor.settings.signing_key(), token[:200])
    return _page(kontor, token, check, _status(check), form=check.problem is None)


@router.post("/{token}", response_class=HTMLResponse)
def answer(token: str, decision: Annotated[str, Form(pattern="^(accept|decline)$")], session: SessionDep,
           kontor: KontorDep, reason: Annotated[str | None, Form(max_length=500)] = None):
    key = kontor.settings.signing_key()
    try:
        with session.begin_nested():  # a refused answer changes nothing, not even the link
            offer = answer_by_link(session, kontor.runtime, key, token[:200], decision, reason)
    except KontorError as exc:
        check = check_link(session, key, token[:200])
        if check.problem is None:  # the link is fine, the process is busy or refused the message
            check = LinkCheck(check.link, check.offer, exc.extra.get("problem", "busy"))
            return _page(kontor, token, check, 409)
        return _page(kontor, token, check, _status(check))
    lang = offer.language if offer.language in TEXTS else "de"
    check = check_link(session, key, token[:200])
    return _page(kontor, token, check, done=TEXTS[lang]["accepted" if decision == "accept" else "declined"])


@router.get("/{token}/pdf")
def pdf(token: str, session: SessionDep, kontor: KontorDep):
    check = check_link(session, kontor.settings.signing_key(), token[:200])
    if check.link is None or check.offer.pdf_document_id is None or check.problem not in (None, "used"):
        return Response("not found", status_code=404, media_type="text/plain")
    filename, content_type, content = DocumentStore.under(kontor.settings.data_dir).load(
        session, check.offer.pdf_document_id)
    return Response(content, media_type=content_type, headers={
        "Content-Disposition": content_disposition(filename, "inline"), "Cache-Control": "no-store"})
