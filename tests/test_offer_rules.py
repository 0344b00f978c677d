"""The offer's pure rules: the approval table (bpmn/offer_approval_level.dmn) row by row, sums and
rounding, what a reply says, and the content an approval is bound to."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.offers.answers import read_reply
from domain.offers.content import content_hash, content_of, diff
from domain.offers.models import Offer, OfferLine
from domain.offers.totals import LineFigures, offer_totals
from runtime.engine import ProcessEngine

BPMN = Path(__file__).parent.parent / "bpmn"
ENGINE = ProcessEngine()
BASE = dict(offer_id=1, offer_label="OFF-2026-0001", content_hash="h", currency="EUR", net_total="5000.00",
            max_line_discount="0", header_discount="0", margin_percent="40.00", over_credit_limit=False,
            nonstandard_terms=False, approval_round=1, salesperson="sam",
            approval_levels=["team_lead", "sales_manager", "managing_director"], approval_deputies={},
            approval_due="P2D", approval_escalate_after="P4D")


def decide(files: dict[str, bytes] | None = None, **facts) -> tuple[str, str, list]:
    bundle = ENGINE.parse_bundle(files or {p.name: p.read_bytes() for p in BPMN.iterdir()})
    spec = bundle["offer_approval"]
    workflow = ENGINE.start(spec, {**BASE, **facts})
    variables = ENGINE.variables(workflow)
    return variables["approval_level"], variables["approval_rule"], variables["approval_steps"]


# One example per row of the table, in its order (hit policy FIRST: the first row that matches).
ROWS = [
    ({"net_total": "100000.01"}, "managing_director", "net total above 100,000"),
    ({"margin_percent": "9.99"}, "managing_director", "margin below 10 %"),
    ({"over_credit_limit": True}, "sales_manager", "credit limit exceeded with this offer"),
    ({"net_total": "25000.01"}, "sales_manager", "net total above 25,000"),
    ({"max_line_discount": "20.01"}, "sales_manager", "a line discount above 20 %"),
    ({"header_discount": "10.5"}, "sales_manager", "header discount above 10 %"),
    ({"margin_percent": "19.99"}, "team_lead", "margin below 20 %"),
    ({"max_line_discount": "10.01"}, "team_lead", "a line discount above 10 %"),
    ({"header_discount": "5.01"}, "team_lead", "header discount above 5 %"),
    ({"nonstandard_terms": True}, "team_lead", "payment terms better than the customer's"),
    ({"net_total": "10000.01"}, "team_lead", "net total above 10,000"),
    ({}, "none", "within the salesperson's authority"),
]


@pytest.mark.parametrize("facts, level, rule", ROWS, ids=[r[2] for r in ROWS])
def test_each_row_of_the_approval_table(facts, level, rule):
    assert decide(**facts)[:2] == (level, rule)


@pytest.mark.parametrize("facts", [{"net_total": "10000.00"}, {"max_line_discount": "10"}, {"header_discount": "5"},
                                   {"margin_percent": "20.00"}, {"margin_percent": None}])
def test_the_thresholds_themselves_need_no_approval(facts):
    assert decide(**facts)[0] == "none"


def test_a_higher_level_is_approved_by_every_level_up_to_it():
    assert decide(net_total="30000")[2] == ["team_lead", "sales_manager"]
    assert decide(net_total="200000")[2] == ["team_lead", "sales_manager", "managing_director"]
    assert decide(max_line_discount="15", net_total="200000")[0] == "managing_director"  # the highest row wins


def test_changing_the_table_changes_the_decision_without_code():
    files = {p.name: p.read_bytes() for p in BPMN.iterdir()}
    assert decide(files, net_total="6000")[0] == "none"
    table = files["offer_approval_level.dmn"].decode()
    files["offer_approval_level.dmn"] = table.replace("&gt; 10000", "&gt; 5000").encode()
    assert decide(files, net_total="6000")[0] == "team_lead"


def line(quantity, price, discount="0", rate="19", cost=None) -> LineFigures:
    return LineFigures(Decimal(quantity), Decimal(price), Decimal(discount), Decimal(rate),
                       None if cost is None else Decimal(cost))


def test_lines_are_rounded_first_then_summed_and_taxed_per_rate():
    totals = offer_totals([line("3", "0.335"), line("1", "10", rate="7"), line("2", "19.99", "12.5")], Decimal("0"))
    # 1.005 -> 1.01; 10.00; 39.98 less 12.5 % = 34.9825 -> 34.98
    assert totals.lines_net == Decimal("45.99")
    assert [(g.rate, g.net, g.tax) for g in totals.tax_groups] == [(Decimal("19"), Decimal("35.99"), Decimal("6.84")),
                                                                   (Decimal("7"), Decimal("10.00"), Decimal("0.70"))]
    assert (totals.net_total, totals.tax_total, totals.gross_total) == (Decimal("45.99"), Decimal("7.54"),
                                                                        Decimal("53.53"))


def test_the_header_discount_comes_off_each_rate_before_its_tax():
    totals = offer_totals([line("1", "100.00"), line("1", "50.00", rate="7")], Decimal("10"))
    assert [(g.net, g.tax) for g in totals.tax_groups] == [(Decimal("90.00"), Decimal("17.10")),
                                                          (Decimal("45.00"), Decimal("3.15"))]
    assert totals.header_discount == Decimal("15.00") and totals.gross_total == Decimal("155.25")


def test_margin_counts_only_lines_with_a_cost():
    totals = offer_totals([line("10", "120", cost="62.50"), line("1", "39.90", rate="7")], Decimal("0"))
    assert (totals.cost_total, totals.margin, totals.margin_percent) == (Decimal("625.00"), Decimal("575.00"),
                                                                         Decimal("47.92"))
    assert offer_totals([line("1", "39.90")], Decimal("0")).margin_percent is None
    assert offer_totals([line("1", "100", cost="100")], Decimal("5")).margin_percent == Decimal("-5.26")


@pytest.mark.parametrize("text, verdict", [
    ("Vielen Dank, wir nehmen das Angebot an.", "accept"),
    ("Passt, wir bestellen.", "accept"),
    ("Hiermit erteilen wir Ihnen den Auftrag.", "accept"),
    ("We accept your offer, please proceed.", "accept"),
    ("Wir nehmen das Angebot leider nicht an.", "decline"),
    ("Wir haben uns für einen anderen Anbieter entschieden.", "decline"),
    ("Thanks, but we will pass this time.", "decline"),
    ("Können Sie bis Freitag liefern?", "unclear"),
    ("Wir nehmen an, können Sie aber noch am Preis etwas machen?", "unclear"),
    ("Ich bin bis Montag nicht im Büro.", "unclear"),
    ("Wir bestellen, lehnen aber die Position 2 ab.", "unclear"),
    ("We accepted another offer.", "unclear"),
    ("We do not want to decline your offer, we need more time.", "unclear"),
    ("Wir lehnen das Angebot nicht ab, brauchen aber noch Zeit.", "unclear"),
    ("Wir nehmen das Angebot an, aber nur mit 10 % Rabatt.", "unclear"),
    ("Go ahead, but change the quantity to 5.", "unclear"),
    ("Kein Interesse.", "decline"),
    ("", "unclear"),
])
def test_what_a_reply_says(text, verdict):
    assert read_reply(text) == verdict


def _offer(**changes) -> tuple[Offer, list[OfferLine]]:
    offer = Offer(title="Netz", contact_id=1, site_id=None, billing_address_id=2, delivery_address_id=2,
                  currency="EUR", payment_days=30, skonto_percent=None, skonto_days=None, delivery_terms="frei Haus",
                  tax_treatment="domestic", header_discount_percent=Decimal("0"),
                  valid_until=date(2026, 12, 31), intro_text=None, closing_text=None, language="de")
    lines = [OfferLine(product_id=7, sku="SRV", name="Beratung", description=None, unit="hour",
                       quantity=Decimal("10"), unit_price=Decimal("120.00"), discount_percent=Decimal("0"),
                       tax_rate=Decimal("19"), unit_cost=Decimal("62.5"))]
    for name, value in changes.items():
        setattr(lines[0] if name in ("quantity", "unit_price", "unit_cost") else offer, name, value)
    return offer, lines


@pytest.mark.parametrize("change", [{"quantity": Decimal("11")}, {"unit_price": Decimal("119.99")},
                                    {"payment_days": 14}, {"valid_until": date(2027, 1, 1)},
                                    {"header_discount_percent": Decimal("2")}, {"delivery_terms": "ab Werk"}])
def test_every_change_the_customer_would_see_changes_the_content_hash(change):
    assert content_hash(*_offer()) != content_hash(*_offer(**change))


def test_costs_and_trailing_zeros_do_not_change_the_content_hash():
    assert content_hash(*_offer()) == content_hash(*_offer(unit_cost=Decimal("70"), quantity=Decimal("10.000")))


def test_the_difference_between_revisions():
    before = content_of(*_offer())
    after = content_of(*_offer(quantity=Decimal("12"), payment_days=14))
    changes = diff(before, after)
    assert changes["header"] == {"payment_days": {"before": 30, "after": 14}}
    assert changes["lines_changed"] == [{"product_id": 7, "sku": "SRV",
                                         "changes": {"quantity": {"before": "10", "after": "12"}}}]
