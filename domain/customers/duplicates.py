"""Candidate duplicates of a customer: the same VAT ID, a contact e-mail domain or phone number in
common, or a name that reads alike (rapidfuzz, legal forms ignored). Each candidate has a score
0..100 and the reasons."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.customers.access import readable_customer, require_creator, require_staff
from domain.customers.models import Contact, Customer
from kernel.principal import Principal

NAME_THRESHOLD = 85
# Mail providers many unrelated people share: a common domain there says nothing.
FREEMAIL = frozenset({"gmail.com", "googlemail.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "outlook.com",
                      "hotmail.com", "yahoo.com", "yahoo.de", "icloud.com", "me.com", "aol.com", "freenet.de",
                      "posteo.de", "mailbox.org", "proton.me", "protonmail.com", "live.com", "online.de"})
LEGAL_FORMS = re.compile(r"\b(gmbh|mbh|ag|kg|ohg|gbr|ug|e\.?\s?k|e\.?\s?v|co|kgaa|se|ltd|limited|inc|llc|plc|"
                         r"corp|corporation|sarl|sa|bv|nv|haftungsbeschränkt|und|and|&)\b\.?", re.IGNORECASE)


@dataclass
class Candidate:
    customer: Customer
    score: int
    reasons: list[str] = field(default_factory=list)


def normalized_name(name: str) -> str:
    return " ".join(LEGAL_FORMS.sub(" ", utils.default_process(name) or "").split())


def phone_digits(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = "49" + digits[1:]  # a national number: the home country's prefix
    return digits if len(digits) >= 7 else None


def email_domain(email: str | None) -> str | None:
    domain = (email or "").rpartition("@")[2].lower().strip()
    return domain if domain and domain not in FREEMAIL else None


@dataclass
class NameIndex:
    """The normalized names of all active customers, read once: a caller checking many rows (an
    import) passes it to find_duplicates instead of having every call read and normalize them."""
    normalized: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> NameIndex:
        rows = session.execute(select(Customer.id, Customer.name).where(Customer.merged_into_id.is_(None))).all()
        return cls({cid: normalized_name(n) for cid, n in rows})

    def add(self, customer: Customer) -> None:
        self.normalized[customer.id] = normalized_name(customer.name)


def find_duplicates(session: Session, name: str, vat_id: str | None = None, emails: list[str] | None = None,
                    phones: list[str] | None = None, exclude_id: int | None = None, limit: int = 10,
                    names: NameIndex | None = None) -> list[Candidate]:
    found: dict[int, Candidate] = {}

    def hit(customer: Customer, score: int, reason: str) -> None:
        candidate = found.setdefault(customer.id, Candidate(customer, 0))
        candidate.score = max(candidate.score, score)
        candidate.reasons.append(reason)

    active = select(Customer).where(Customer.merged_into_id.is_(None))
    if exclude_id is not None:
        active = active.where(Customer.id != exclude_id)
    if vat_id:
        for customer in session.scalars(active.where(Customer.vat_id == vat_id)):
            hit(customer, 100, f"same VAT ID {vat_id}")
    domains = {d for d in map(email_domain, emails or []) if d}
    for domain in domains:
        for customer in session.scalars(active.join(Contact, Contact.customer_id == Customer.id)
                                        .where(func.lower(Contact.email).like(f"%@{domain}")).distinct()):
            hit(customer, 70, f"a contact's e-mail at {domain}")
    wanted_phones = {p for p in map(phone_digits, phones or []) if p}
    if wanted_phones:
        rows = session.execute(active.with_only_columns(Customer.id, Contact.phone, Contact.mobile)
                               .join(Contact, Contact.customer_id == Customer.id)
                               .where((Contact.phone.is_not(None)) | (Contact.mobile.is_not(None)))).all()
        for customer_id, phone, mobile in rows:
            if {phone_digits(phone), phone_digits(mobile)} & wanted_phones:
                hit(session.get(Customer, customer_id), 75, "the same phone number")
    wanted = normalized_name(name)
    if wanted:
        if names is None:
            names = NameIndex.load(session)
        choices = {cid: n for cid, n in names.normalized.items() if cid != exclude_id}
        for _, score, customer_id in process.extract(wanted, choices, scorer=fuzz.token_sort_ratio,
                                                     score_cutoff=NAME_THRESHOLD, limit=limit):
            hit(session.get(Customer, customer_id), int(round(score)), f"a similar name ({int(round(score))} %)")
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.customer.id))
    for candidate in ranked:  # several signals together make a duplicate more likely
        candidate.score = min(100, candidate.score + 10 * (len(candidate.reasons) - 1))
    return sorted(ranked, key=lambda c: (-c.score, c.customer.id))[:limit]


def duplicates_of(session: Session, customer: Customer, limit: int = 10) -> list[Candidate]:
    contacts = session.execute(select(Contact.email, Contact.phone, Contact.mobile)
                               .where(Contact.customer_id == customer.id)).all()
    return find_duplicates(session, customer.name, customer.vat_id, [c.email for c in contacts if c.email],
                           [p for c in contacts for p in (c.phone, c.mobile) if p], exclude_id=customer.id,
                           limit=limit)


def duplicates_for(session: Session, who: Principal, customer_id: int) -> list[Candidate]:
    """Candidate duplicates of a stored customer: for staff (they name other customers)."""
    customer = readable_customer(session, who, customer_id)
    require_staff(who, "duplicate checks")
    return duplicates_of(session, customer)


def duplicates_before_create(session: Session, who: Principal, name: str, vat_id: str | None,
                             emails: list[str] | None, phones: list[str] | None) -> list[Candidate]:
    """What a customer about to be created may duplicate: for those who create customers."""
    require_creator(who)
    return find_duplicates(session, name, vat_id, emails, phones)
