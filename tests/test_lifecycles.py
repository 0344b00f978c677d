"""Lifecycles as data: each status-bearing record declares its states and moves beside its model
(kernel.lifecycle), and domain.lifecycle.change_state is the only code that moves a record. Every
declared move passes, moves it does not declare are refused, nothing in domain/ assigns a state
field by itself, and the README's table of moves says what the declarations say."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from domain.customers.models import CUSTOMER_LIFECYCLE, Customer
from domain.dunning.models import DUNNING_LIFECYCLE, Dunning
from domain.invoicing.models import INVOICE_LIFECYCLE, Invoice
from domain.lifecycle import change_state, check_move, describe
from domain.offers.models import CLOSED_STATUSES, OFFER_LIFECYCLE, Offer
from domain.orders.models import ORDER_LIFECYCLE, Order
from domain.payments.mandate_models import MANDATE_LIFECYCLE, Mandate
from domain.sales.models import LEAD_LIFECYCLE, OPPORTUNITY_LIFECYCLE, Lead, Opportunity
from kernel.errors import Conflict
from kernel.lifecycle import Lifecycle, Transition, move

ROOT = Path(__file__).resolve().parent.parent
RECORDS = {Offer: OFFER_LIFECYCLE, Order: ORDER_LIFECYCLE, Lead: LEAD_LIFECYCLE, Customer: CUSTOMER_LIFECYCLE,
           Invoice: INVOICE_LIFECYCLE, Mandate: MANDATE_LIFECYCLE, Dunning: DUNNING_LIFECYCLE}
ALL = {**RECORDS, Opportunity: OPPORTUNITY_LIFECYCLE}  # an opportunity's state follows from its phase


def record_in(model, state: str):
    record = model(id=7)
    setattr(record, model.lifecycle.field, state)  # a record as loaded: the test sets up, it does not move
    return record


def test_each_model_declares_its_lifecycle():
    for model, lifecycle in RECORDS.items():
        assert model.lifecycle is lifecycle
        assert model.__table__.columns[lifecycle.field].default.arg == lifecycle.initial


@pytest.mark.parametrize("model,transition", [(m, t) for m, lc in RECORDS.items() for t in lc.transitions],
                         ids=lambda x: getattr(x, "__name__", None) or f"{x.source}-{x.target}")
def test_every_declared_move_passes(model, transition):
    record = record_in(model, transition.source)
    assert change_state(None, record, transition.target) == transition
    assert getattr(record, model.lifecycle.field) == transition.target


@pytest.mark.parametrize("model,source,target", [
    (Offer, "draft", "sent"), (Offer, "draft", "approved"), (Offer, "in_approval", "sent"),
    (Offer, "rework", "approved"), (Offer, "sent", "draft"), (Offer, "sent", "in_approval"),
    (Offer, "accepted", "declined"), (Offer, "declined", "accepted"), (Offer, "expired", "accepted"),
    (Offer, "superseded", "sent"), (Offer, "cancelled", "draft"), (Offer, "accepted", "cancelled"),
    (Order, "confirmed", "closed"), (Order, "invoiced", "cancelled"), (Order, "cancelled", "confirmed"),
    (Order, "closed", "cancelled"), (Order, "partly_delivered", "cancelled"),
    (Invoice, "issued", "draft"), (Lead, "converted", "new"), (Lead, "converted", "qualified"),
    (Lead, "disqualified", "converted"), (Customer, "active", "merged"), (Offer, "draft", "archived"),
    (Dunning, "settled", "running"), (Dunning, "stopped", "running"), (Dunning, "handed_over", "running"),
    (Dunning, "disputed", "handed_over"), (Dunning, "running", "stopped"),
])
def test_a_move_not_declared_is_refused_naming_the_record_and_both_states(model, source, target):
    record = record_in(model, source)
    with pytest.raises(Conflict) as refused:
        change_state(None, record, target)
    assert refused.value.message == f"{describe(record)} cannot go from {source} to {target}"
    assert describe(record).startswith(model.lifecycle.record) and describe(record).endswith("7")
    assert getattr(record, model.lifecycle.field) == source


@pytest.mark.parametrize("source,target", [("won", "open"), ("lost", "open"), ("won", "lost"), ("lost", "won")])
def test_a_closed_opportunity_does_not_move(source, target):
    assert check_move(Opportunity(id=7), "open", "won").name == "win"
    assert check_move(Opportunity(id=7), "open", "open") is None  # from one open phase into another
    with pytest.raises(Conflict, match=f"opportunity 7 cannot go from {source} to {target}"):
        check_move(Opportunity(id=7), source, target)
    with pytest.raises(TypeError):  # its phase moves it, never a state of its own
        change_state(None, Opportunity(id=7), "won")


def test_staying_in_a_state_is_no_move():
    offer = record_in(Offer, "approved")
    assert change_state(None, offer, "approved") is None and offer.status == "approved"


def test_the_offer_lifecycle_ends_only_in_closed_states():
    assert set(OFFER_LIFECYCLE.final_states) <= set(CLOSED_STATUSES)
    assert OFFER_LIFECYCLE.targets("rework") == ("in_approval", "cancelled")
    assert OFFER_LIFECYCLE.transition("approved", "sent").name == "send"


def test_a_declaration_that_does_not_add_up_is_refused():
    with pytest.raises(ValueError, match="initial"):
        Lifecycle("x", ("a", "b"), "c", ())
    with pytest.raises(ValueError, match="unknown state"):
        Lifecycle("x", ("a", "b"), "a", move("a", "z"))
    with pytest.raises(ValueError, match="twice"):
        Lifecycle("x", ("a", "b"), "a", (*move("a", "b"), Transition("a", "b", "again")))
    with pytest.raises(ValueError, match="no move"):
        Lifecycle("x", ("a", "b"), "a", move("a", "a"))


# ---------------------------------------------------------------- nothing else assigns a state
STATE_FIELDS = {lifecycle.field for lifecycle in RECORDS.values() if lifecycle.field}
MODELS = {model.__name__ for model in RECORDS}


def _targets(node):
    if isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            yield from _targets(element)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)
    else:
        yield node


def state_assignments(source: str, filename: str) -> list[str]:
    """Where the code assigns a state field itself: `x.status = …` (also in tuples and augmented),
    `setattr(x, "status", …)`, or a model built with a state written out (`Offer(status="sent")`)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        targets = (node.targets if isinstance(node, ast.Assign) else
                   [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for target in (t for top in targets for t in _targets(top)):
            if isinstance(target, ast.Attribute) and target.attr in STATE_FIELDS:
                found.append(f"{filename}:{node.lineno} assigns .{target.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "setattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                    and node.args[1].value in STATE_FIELDS:
                found.append(f"{filename}:{node.lineno} setattr {node.args[1].value}")
            if node.func.id in MODELS:
                found += [f"{filename}:{node.lineno} builds {node.func.id} in a written-out state"
                          for kw in node.keywords if kw.arg in STATE_FIELDS and isinstance(kw.value, ast.Constant)]
    return found


def test_only_the_lifecycle_function_assigns_a_state_in_domain():
    files = [p for p in sorted((ROOT / "domain").rglob("*.py")) if p != ROOT / "domain" / "lifecycle.py"]
    assert files
    assert [hit for path in files
            for hit in state_assignments(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))] == []


def test_the_check_sees_each_kind_of_offence():
    bad = ("offer.status = 'sent'\noffer.status, offer.sent_at = 'sent', now\nsetattr(lead, 'status', 'new')\n"
           "Order(number='1', status='open')\nOrder(status=ORDER_LIFECYCLE.initial)\nx = offer.status\n")
    assert [hit.split(" ", 1)[0] for hit in state_assignments(bad, "bad.py")] == ["bad.py:1", "bad.py:2", "bad.py:3",
                                                                                 "bad.py:4"]


# ---------------------------------------------------------------- the README says the same
def test_the_readme_lists_every_move():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Lifecycles", 1)[1].split("\n## ", 1)[0]
    rows = {tuple(cell.strip(" `") for cell in row.strip("|").split("|")[:4])
            for row in section.splitlines()
            if re.match(r"\| (offer|order|invoice|mandate|dunning|lead|customer|opportunity) \|", row)}
    declared = {(lc.record, t.source, t.target, t.name or "") for lc in ALL.values() for t in lc.transitions}
    assert rows == declared
    for lifecycle in ALL.values():
        assert f"`{lifecycle.record}`: " + ", ".join(f"`{s}`" for s in lifecycle.states) in section
