"""Money is Decimal with explicit rounding: to the cent, half up, per line and then per total.

The one place where a business document's sums are made, so that the offer, the order, the invoice
and the credit note agree to the cent (and their PDF and e-invoice with them):

1. each line: quantity x unit price less the line discount, rounded to cents half up (`line_net`);
2. per tax group (category and rate): the sum of its lines less the header discount, rounded to
   cents half up;
3. the net total is the sum of (2); the header discount shown is the lines' sum minus that;
4. tax per group: the group's net from (2) times the rate, rounded to cents half up (German practice:
   tax on the sum per rate, not per line); the gross total is net plus all taxes.

Amounts carry no currency here; the records that hold them carry it beside every amount."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")  # unit prices, line totals and discount percentages are rounded to this
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
STANDARD = "S"  # EN 16931 tax category of a taxed line (UNCL 5305)


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity x unit_price less a line discount (0-100 %), rounded to cents, half up (away from
    zero, so credit lines mirror invoice lines). Totals are sums of rounded lines."""
    return to_cents(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)


@dataclass(frozen=True)
class TaxGroup:
    rate: Decimal
    net: Decimal
    tax: Decimal
    category: str = STANDARD  # S taxed; AE reverse charge; K intra-community supply; G export; E exempt

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class TaxedLine:
    """A line as the sums see it: its rounded net (1), its tax rate and category."""
    net: Decimal
    rate: Decimal
    category: str = STANDARD


@dataclass(frozen=True)
class DocumentTotals:
    lines_net: Decimal  # sum of the rounded lines
    header_discount: Decimal  # what the header discount takes off
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    tax_groups: tuple[TaxGroup, ...]


def document_totals(lines: Iterable[TaxedLine], header_discount_percent: Decimal = ZERO) -> DocumentTotals:
    """The sums of a document's lines, steps (2) to (4) above."""
    if not Decimal(0) <= header_discount_percent <= HUNDRED:
        raise ValueError(f"header discount must be between 0 and 100 %, got {header_discount_percent}")
    keep = (HUNDRED - header_discount_percent) / HUNDRED
    lines_net = ZERO
    by_group: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        lines_net += line.net
        key = (line.category, line.rate)
        by_group[key] = by_group.get(key, ZERO) + line.net
    groups = []
    for (category, rate), net in sorted(by_group.items(), key=lambda item: (-item[0][1], item[0][0])):
        kept = to_cents(net * keep)
        groups.append(TaxGroup(rate, kept, to_cents(kept * rate / HUNDRED), category))
    net_total = sum((g.net for g in groups), ZERO)
    tax_total = sum((g.tax for g in groups), ZERO)
    return DocumentTotals(lines_net, lines_net - net_total, net_total, tax_total, net_total + tax_total, tuple(groups))


def share_by_groups(amount: Decimal, groups: Iterable[TaxGroup]) -> tuple[tuple[TaxGroup, Decimal, Decimal], ...]:
    """An amount off the gross (Skonto, a payment difference) split over the tax groups in
    proportion to their gross, each share split into net and tax at the group's rate: (group, net,
    tax) per group, the shares summing to `amount` exactly (the last group takes the rounding)."""
    groups = [g for g in groups if g.gross]
    total = sum((g.gross for g in groups), ZERO)
    if not groups or not total:
        return ()
    shares, left = [], amount
    for index, group in enumerate(groups):
        share = left if index == len(groups) - 1 else to_cents(amount * group.gross / total)
        left -= share
        tax = to_cents(share * group.rate / (HUNDRED + group.rate))
        shares.append((group, share - tax, tax))
    return tuple(shares)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """`percent` % of `amount`, rounded to cents half up (a Skonto, a fee, a down payment)."""
    return to_cents(amount * percent / HUNDRED)
