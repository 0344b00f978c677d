"""The customer's answer to an offer: what a reply's text says (pure rules, German and English), and
the signed accept/decline link that needs no login (single use, ends with the offer's validity)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.offers.models import Offer, OfferAnswerLink
from kernel.clock import utcnow

_ACCEPT = [r"\bnehmen\b.{0,60}\ban\b", r"\bangenommen\b", r"\bannehmen\b", r"\bbestellen\b", r"\bbestellung\b",
           r"\bbeauftragen\b", r"\bauftrag\b.{0,30}\berteil", r"\berteil\w*\b.{0,40}\bauftrag\b", r"\bzusage\b",
           r"\beinverstanden\b",
           r"\bwe accept\b", r"\baccepted\b", r"\bwe(?:'d| would) like to (?:go ahead|proceed|order)\b",
           r"\bplease proceed\b", r"\bgo ahead\b", r"\bwe agree\b", r"\bplace (?:the|an|our) order\b"]
# A no said in plain words; "wir lehnen nicht ab" (a negation in the sentence) is no no.
_DECLINE = [r"\blehnen\b.{0,60}\bab\b", r"\babgelehnt\b", r"\babsage\b", r"\banderen anbieter",
            r"\bdecline\b", r"\bdeclined\b", r"\bwe(?:'ll| will) pass\b", r"\b(?:went|go|going) with another\b",
            r"\bchose another\b", r"\breject\b"]
# A no that is itself a negation.
_DECLINE_NEGATED = [r"\bkein interesse\b", r"\bnicht (?:annehmen|beauftragen|bestellen)\b",
                    r"\bnehmen\b.{0,60}\bnicht an\b", r"\bnot interested\b", r"\bnot (?:accept|proceed)\b"]
# A yes with a condition or about something else is no clear yes.
_DOUBT = re.compile(r"\b(?:aber|jedoch|allerdings|sofern|falls|wenn|vorausgesetzt|bedingung|anderen?|anderes|but|"
                    r"however|provided|only if|unless|if|another|other)\b")
_NEGATION = re.compile(r"\b(?:nicht|kein|keine|keinen|not|don't|do not|won't|cannot|can't)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def read_reply(text: str) -> str:
    """accept, decline or unclear: a clear yes or no, without a question and without both at once."""
    text = (text or "").strip().lower()
    if not text or "?" in text:
        return "unclear"
    accepted = declined = False
    for sentence in _SENTENCE.split(text):
        negated = _NEGATION.search(sentence) is not None
        declines = any(re.search(p, sentence) for p in _DECLINE_NEGATED) or \
            (not negated and any(re.search(p, sentence) for p in _DECLINE))
        accepts = not negated and any(re.search(p, sentence) for p in _ACCEPT)  # "nehmen nicht an" is the no
        if accepts and (declines or _DOUBT.search(sentence)):
            return "unclear"  # yes and no at once, or a yes with a condition
        declined, accepted = declined or declines, accepted or accepts
    if accepted == declined:
        return "unclear"
    return "accept" if accepted else "decline"


# ------------------------------------------------------------------ the signed answer link
@dataclass(frozen=True)
class LinkCheck:
    link: OfferAnswerLink | None
    offer: Offer | None
    problem: str | None  # why the link cannot be used: invalid | used | expired | closed; None: usable


def _mac(key: str, offer_id: int, nonce: str) -> str:
    purpose_key = hmac.new(key.encode(), b"kontor offer answer link", hashlib.sha256).digest()
    digest = hmac.new(purpose_key, f"{offer_id}.{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def create_link(session: Session, key: str, offer: Offer, expires_at: datetime) -> str:
    """A new link token for the offer (one per sending; the offer's earlier links stay valid)."""
    nonce = secrets.token_urlsafe(18)
    session.add(OfferAnswerLink(offer_id=offer.id, nonce=nonce, expires_at=expires_at))
    session.flush()
    return f"{offer.id}.{nonce}.{_mac(key, offer.id, nonce)}"


_TOKEN = re.compile(r"^([0-9]{1,12})\.([A-Za-z0-9_-]{20,40})\.([A-Za-z0-9_-]{24})$")


def check_link(session: Session, key: str, token: str, for_update: bool = False) -> LinkCheck:
    match = _TOKEN.match(token or "")
    if match is None or not hmac.compare_digest(match.group(3), _mac(key, int(match.group(1)), match.group(2))):
        return LinkCheck(None, None, "invalid")
    query = select(OfferAnswerLink).where(OfferAnswerLink.nonce == match.group(2),
                                          OfferAnswerLink.offer_id == int(match.group(1)))
    link = session.scalar(query.with_for_update() if for_update else query)
    offer = session.get(Offer, link.offer_id) if link is not None else None
    if link is None or offer is None:
        return LinkCheck(None, None, "invalid")
    if link.used_at is not None:
        return LinkCheck(link, offer, "used")
    if link.expires_at <= utcnow() or offer.status == "expired":
        return LinkCheck(link, offer, "expired")
    if offer.status != "sent":
        return LinkCheck(link, offer, "closed")
    return LinkCheck(link, offer, None)


def answer_by_link(session: Session, runtime, key: str, token: str, decision: str, reason: str | None) -> Offer:
    """The customer's answer through the link: the link is used up and the answer goes to the waiting
    process as the message `offer_reply`, in this transaction. A second use is refused, and so is an
    answer while the process is not waiting for one (e.g. a salesperson is reading a mail reply):
    then nothing changes and the page says to try again later."""
    from kernel.errors import Conflict, NotFound
    from kernel.principal import Principal
    from runtime.messages import correlate_message

    if decision not in ("accept", "decline"):
        raise ValueError(f"decision must be accept or decline, got {decision!r}")
    check = check_link(session, key, token, for_update=True)
    if check.link is None:
        raise NotFound("this answer link is not valid")
    if check.problem is not None:
        raise Conflict(f"this answer link cannot be used: {check.problem}", problem=check.problem)
    check.link.used_at, check.link.used_for = utcnow(), decision
    customer = Principal(f"customer-link:{check.offer.id}", frozenset())
    result = correlate_message(session, runtime, customer, "offer_reply", {"offer_id": check.offer.id},
                               data={"decision": decision, "reason": (reason or "").strip()[:500] or None,
                                     "route": "link", "link_id": check.link.id},
                               message_id=f"offer-link:{check.link.id}")
    if result.message.status != "delivered" or result.message.instance_id != check.offer.instance_id:
        raise Conflict("the offer's process is not waiting for an answer now", problem="busy")
    check.offer.answered_at = utcnow()  # the answer is in: no revision or withdrawal may drop it now
    return check.offer
