"""An offer's sums, without I/O: the sums themselves are kernel.money's (the rounding every document
shares: lines rounded first, then net and tax per rate); this adds what only an offer's approval asks.

The margin counts only lines whose product has a cost: their net after the header discount minus
their cost. Without such lines the offer has no margin (None), not 100 %.

A line's discount, as the approval rules see it, is everything it takes off the price list's price:
the customer's special conditions and the line discount together (a special price is a discount)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from domain.pricing import line_total
from kernel.money import HUNDRED, TaxedLine, TaxGroup, document_totals, to_cents

__all__ = ["LineFigures", "OfferTotals", "TaxGroup", "discount_from_list", "line_margin", "line_net", "offer_totals"]


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
    nets = [line_net(line) for line in lines]
    sums = document_totals((TaxedLine(net, line.tax_rate) for line, net in zip(lines, nets, strict=True)),
                           header_discount_percent)
    keep = (HUNDRED - header_discount_percent) / HUNDRED
    costed = [(line, net) for line, net in zip(lines, nets, strict=True) if line.unit_cost is not None]
    cost_total = margin = margin_percent = None
    if costed:
        cost_total = sum((to_cents(line.quantity * line.unit_cost) for line, _ in costed), Decimal("0.00"))
        costed_net = to_cents(sum((net for _, net in costed), Decimal("0.00")) * keep)
        margin = costed_net - cost_total
        margin_percent = to_cents(margin * HUNDRED / costed_net) if costed_net else None
    return OfferTotals(sums.lines_net, sums.header_discount, sums.net_total, sums.tax_total, sums.gross_total,
                       sums.tax_groups, cost_total, margin, margin_percent,
                       max((discount_from_list(line) for line in lines), default=Decimal("0")))
