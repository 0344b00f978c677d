"""An offer's sums, without I/O. Rounding, so that the PDF, the order and later the invoice agree:

1. each line: quantity x unit price less the line discount, rounded to cents half up (`line_total`);
2. per tax rate: the sum of its lines less the header discount, rounded to cents half up;
3. the net total is the sum of (2); the header discount shown is the lines' sum minus that;
4. tax per rate: the rate's net from (2) times the rate, rounded to cents half up (German practice:
   tax on the sum per rate, not per line); the gross total is net plus all taxes.

The margin counts only lines whose product has a cost: their net after the header discount minus
their cost. Without such lines the offer has no margin (None), not 100 %.

A line's discount, as the approval rules see it, is everything it takes off the price list's price:
the customer's special conditions and the line discount together (a special price is a discount)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from domain.pricing import line_total
from kernel.money import HUNDRED, to_cents


@dataclass(frozen=True)
class LineFigures:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    unit_cost: Decimal | None = None
    list_price: Decimal | None = None  # the price list's unit price, before special conditions


def discount_from_list(line: LineFigures) -> Decimal:
    """Percent the line's net lies below its quantity at the price list's price (0 without one)."""
    if line.list_price is None or line.list_price <= 0 or line.quantity <= 0:
        return line.discount_percent
    at_list = line.quantity * line.list_price
    return max(line.discount_percent, to_cents((at_list - line_net(line)) * HUNDRED / at_list))


@dataclass(frozen=True)
class TaxGroup:
    rate: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class OfferTotals:
    lines_net: Decimal  # sum of the rounded lines
    header_discount: Decimal  # what the header discount takes off
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    tax_groups: tuple[TaxGroup, ...] = field(default_factory=tuple)
    cost_total: Decimal | None = None
    margin: Decimal | None = None
    margin_percent: Decimal | None = None
    max_line_discount: Decimal = Decimal("0")


def line_net(line: LineFigures) -> Decimal:
    return line_total(line.quantity, line.unit_price, line.discount_percent)


def line_margin(line: LineFigures) -> tuple[Decimal | None, Decimal | None]:
    """(margin, margin %) of one line before the header discount; None without a cost."""
    if line.unit_cost is None:
        return None, None
    net = line_net(line)
    margin = net - to_cents(line.quantity * line.unit_cost)
    return margin, (to_cents(margin * HUNDRED / net) if net else None)


def offer_totals(lines: Iterable[LineFigures], header_discount_percent: Decimal) -> OfferTotals:
    lines = list(lines)
    if not Decimal(0) <= header_discount_percent <= HUNDRED:
        raise ValueError(f"header discount must be between 0 and 100 %, got {header_discount_percent}")
    keep = (HUNDRED - header_discount_percent) / HUNDRED
    nets = [line_net(line) for line in lines]
    lines_net = sum(nets, Decimal("0.00"))
    by_rate: dict[Decimal, Decimal] = {}
    for line, net in zip(lines, nets, strict=True):
        by_rate[line.tax_rate] = by_rate.get(line.tax_rate, Decimal("0.00")) + net
    groups = tuple(TaxGroup(rate, to_cents(net * keep), to_cents(to_cents(net * keep) * rate / HUNDRED))
                   for rate, net in sorted(by_rate.items(), reverse=True))
    net_total = sum((g.net for g in groups), Decimal("0.00"))
    tax_total = sum((g.tax for g in groups), Decimal("0.00"))
    costed = [(line, net) for line, net in zip(lines, nets, strict=True) if line.unit_cost is not None]
    cost_total = margin = margin_percent = None
    if costed:
        cost_total = sum((to_cents(line.quantity * line.unit_cost) for line, _ in costed), Decimal("0.00"))
        costed_net = to_cents(sum((net for _, net in costed), Decimal("0.00")) * keep)
        margin = costed_net - cost_total
        margin_percent = to_cents(margin * HUNDRED / costed_net) if costed_net else None
    return OfferTotals(lines_net, lines_net - net_total, net_total, tax_total, net_total + tax_total, groups,
                       cost_total, margin, margin_percent,
                       max((discount_from_list(line) for line in lines), default=Decimal("0")))
