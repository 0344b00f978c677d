"""Which tax a line bears and what the invoice must say about it (§14 (4) Nr. 8 and §14a UStG,
Art. 226 VAT Directive), from the customer's tax treatment and whether the line is goods or a service.

- domestic: taxed at the line's rate (category S; a line at 0 % is zero-rated, Z);
- EU business customer: services under reverse charge (AE, §13b UStG: "Steuerschuldnerschaft des
  Leistungsempfängers", both VAT IDs on the invoice); goods as a tax-free intra-community supply
  (K, §4 Nr. 1b / §6a UStG, both VAT IDs);
- outside the EU: tax-free export of goods (G, §4 Nr. 1a / §6 UStG) or a service not taxable in
  Germany (§3a (2) UStG). Both are category G ("export outside the EU"): EN 16931's "not subject to
  VAT" (O) forbids the supplier's VAT ID on the invoice, which a German invoice must carry.

Pure: no database."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0")


@dataclass(frozen=True)
class TaxCase:
    category: str  # UNCL 5305 as EN 16931 uses it
    exemption_code: str | None  # VATEX code (BT-121)
    text: dict[str, str]  # the sentence the invoice prints, per language (BT-120 and the note)


REVERSE_CHARGE = TaxCase("AE", "VATEX-EU-AE", {
    "de": "Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG).",
    "en": "Reverse charge: VAT to be accounted for by the recipient (Art. 196 VAT Directive)."})
INTRA_COMMUNITY = TaxCase("K", "VATEX-EU-IC", {
    "de": "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b i. V. m. § 6a UStG).",
    "en": "Tax-exempt intra-community supply of goods (Art. 138 VAT Directive)."})
EXPORT = TaxCase("G", "VATEX-EU-G", {
    "de": "Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1a i. V. m. § 6 UStG).",
    "en": "Tax-exempt export of goods (Art. 146 VAT Directive)."})
NOT_TAXABLE_HERE = TaxCase("G", "VATEX-EU-G", {
    "de": "Nicht im Inland steuerbare Leistung (§ 3a Abs. 2 UStG).",
    "en": "Service not subject to VAT in Germany (place of supply: the recipient's country)."})
TAXED = TaxCase("S", None, {"de": "", "en": ""})
ZERO_RATED = TaxCase("Z", None, {"de": "", "en": ""})


def tax_case(tax_treatment: str, goods: bool, rate: Decimal) -> TaxCase:
    if tax_treatment == "eu_reverse_charge":
        return INTRA_COMMUNITY if goods else REVERSE_CHARGE
    if tax_treatment == "export":
        return EXPORT if goods else NOT_TAXABLE_HERE
    if tax_treatment != "domestic":
        raise ValueError(f"unknown tax treatment {tax_treatment!r}")
    return TAXED if rate > ZERO else ZERO_RATED


def effective_rate(tax_treatment: str, rate: Decimal) -> Decimal:
    """The rate the line bears on this invoice: its own at home, none across a border."""
    return rate if tax_treatment == "domestic" else ZERO


def exemption_text(category: str, goods: set[bool], lang: str) -> str | None:
    """What the invoice says of a tax-free group (BT-120): for exports, of goods, services or both."""
    if category == "AE":
        return REVERSE_CHARGE.text[lang]
    if category == "K":
        return INTRA_COMMUNITY.text[lang]
    if category == "G":
        texts = [case.text[lang] for case, kind in ((EXPORT, True), (NOT_TAXABLE_HERE, False)) if kind in goods]
        return " ".join(texts) or EXPORT.text[lang]
    return None


def needs_both_vat_ids(category: str) -> bool:
    """Reverse charge and intra-community supplies name the supplier's and the recipient's VAT ID."""
    return category in ("AE", "K")
