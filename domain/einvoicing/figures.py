"""The tax breakdown (BG-23) and the totals (BG-22) of an e-invoice from its lines, for a caller that
has only lines and header discounts. The rounding is Kontor's (domain/offers/totals.py): each line to
the cent, then per tax category and rate the lines less the allowances, tax on that sum rounded half
up (tax per rate, not per line), gross = net + tax. An invoice that stores its own figures passes
those instead; validation (BR-CO-…) checks that they add up either way.

Tax-free categories carry the reason the law asks for (§14 (4) Nr. 8 UStG), in German and English,
with the code of the VATEX list: reverse charge, intra-community supply, export."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from domain.einvoicing.model import DocumentAllowance, InvoiceLine, TaxBreakdown, TaxCategory, Totals
from kernel.money import HUNDRED, to_cents

ZERO = Decimal("0.00")

EXEMPTION_REASONS: dict[TaxCategory, tuple[str, str]] = {
    TaxCategory.REVERSE_CHARGE: ("Steuerschuldnerschaft des Leistungsempfängers / Reverse charge", "VATEX-EU-AE"),
    TaxCategory.INTRA_COMMUNITY: ("Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b UStG) / "
                                  "Intra-community supply, exempt", "VATEX-EU-IC"),
    TaxCategory.EXPORT: ("Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1a UStG) / Export outside the EU, exempt",
                         "VATEX-EU-G"),
}
TAX_FREE = frozenset({TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY, TaxCategory.EXPORT,
                      TaxCategory.EXEMPT, TaxCategory.ZERO_RATED})


def tax_breakdown(lines: Iterable[InvoiceLine], allowances: Iterable[DocumentAllowance] = (),
                  exemption_reasons: Mapping[TaxCategory, tuple[str, str | None]] | None = None
                  ) -> tuple[TaxBreakdown, ...]:
    """One row per (category, rate), in the order the lines first name them. An exempt category (E)
    has no default reason: pass it in `exemption_reasons` as (text, VATEX code or None)."""
    reasons = {**EXEMPTION_REASONS, **(exemption_reasons or {})}
    bases: dict[tuple[TaxCategory, Decimal], Decimal] = {}
    for line in lines:
        key = (line.tax_category, line.tax_rate)
        bases[key] = bases.get(key, ZERO) + line.net_amount
    for allowance in allowances:
        key = (allowance.tax_category, allowance.tax_rate)
        if key not in bases:
            raise ValueError(f"allowance in tax category {key[0].value} {key[1]} % that no line has")
        bases[key] -= allowance.amount
    rows = []
    for (category, rate), basis in bases.items():
        if category in TAX_FREE and rate != 0:
            raise ValueError(f"tax category {category.value} takes rate 0, not {rate}")
        text, code = reasons.get(category, (None, None))
        if category is TaxCategory.EXEMPT and not text:
            raise ValueError("an exempt (E) line needs its exemption reason")
        rows.append(TaxBreakdown(category=category, rate=rate, basis_amount=to_cents(basis),
                                 tax_amount=to_cents(basis * rate / HUNDRED), exemption_reason=text,
                                 exemption_reason_code=code))
    return tuple(rows)


def totals(lines: Iterable[InvoiceLine], allowances: Iterable[DocumentAllowance],
           breakdown: Iterable[TaxBreakdown], prepaid: Decimal = ZERO) -> Totals:
    """BT-106 … BT-115 from the lines, the allowances and the breakdown; `prepaid` (BT-113) is what
    down payments already paid and the invoice deducts."""
    line_total = to_cents(sum((line.net_amount for line in lines), ZERO))
    allowance_total = to_cents(sum((allowance.amount for allowance in allowances), ZERO))
    tax_total = to_cents(sum((row.tax_amount for row in breakdown), ZERO))
    tax_exclusive = line_total - allowance_total
    tax_inclusive = tax_exclusive + tax_total
    return Totals(line_total=line_total, allowance_total=allowance_total, tax_exclusive=tax_exclusive,
                  tax_total=tax_total, tax_inclusive=tax_inclusive, prepaid=to_cents(prepaid),
                  amount_due=tax_inclusive - to_cents(prepaid))
