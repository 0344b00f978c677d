"""The rule files are the ones the README names (sha256), ship with the installed package, and the
small pure rules around them hold: Kontor's units as UN/ECE codes, Skonto lines, tax breakdown."""
from __future__ import annotations

import hashlib
import tomllib
from decimal import Decimal as D
from pathlib import Path

import pytest

from domain.einvoicing.figures import tax_breakdown
from domain.einvoicing.model import DocumentAllowance, Skonto, TaxCategory
from domain.einvoicing.payment_terms import skonto_line
from domain.einvoicing.units import unit_code_for
from domain.einvoicing.validation import RULE_SETS, RULES
from tests.einvoicing_support import line

ROOT = Path(__file__).resolve().parent.parent
SHA256 = {
    "EN16931-CII-validation.xsl": "0911e927f13f9ae2cdc7f973643f27bf0ad3c5da02483c04a5b8a47eb4822199",
    "EN16931-UBL-validation.xsl": "759f2d2e830c7fd1d5a6e8b4f61e5dbafc7a7805862c4ae1c749eeac6adde698",
    "XRechnung-CII-validation.xsl": "ec54f662803a87f527ec606d1320bc404f1657a848af6a76f37f32905e4aac40",
    "XRechnung-UBL-validation.xsl": "e32d831668facbbd5136cc0119bf1dd6f92ac20738aa3b3f021586f5a305c738",
}


def test_the_rule_files_are_the_ones_the_readme_names():
    present = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in RULES.glob("*.xsl")}
    assert present == SHA256
    readme = (RULES / "README.md").read_text(encoding="utf-8")
    assert all(name in readme and digest in readme for name, digest in SHA256.items())
    assert {path.name for rules in RULE_SETS.values() for path in rules if path.parent == RULES} == set(SHA256)


def test_the_rule_files_ship_with_the_package():
    """pyproject.toml's package data covers every file of rules/ (setuptools copies only what it names)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["domain.einvoicing"]
    package = ROOT / "domain" / "einvoicing"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    assert set(RULES.iterdir()) <= shipped


@pytest.mark.parametrize(("unit", "code"), [
    ("piece", "H87"), ("Stück", "H87"), ("stk", "H87"), ("hour", "HUR"), ("Stunde", "HUR"), ("Std.", "HUR"),
    ("day", "DAY"), ("Tag", "DAY"), ("Personentag", "DAY"), ("week", "WEE"), ("Woche", "WEE"), ("month", "MON"),
    ("Monat", "MON"), ("year", "ANN"), ("Jahr", "ANN"), ("licence", "C62"), ("Lizenz", "C62"), ("flat", "LS"),
    ("Pauschale", "LS"), ("lump sum", "LS"), ("km", "KMT"), ("kg", "KGM"), ("m", "MTR"), ("  STUNDEN ", "HUR"),
    ("HUR", "HUR"), ("ls", "LS"),
])
def test_kontors_units_map_to_un_ece_codes(unit, code):
    found = unit_code_for(unit)
    assert (found.code, found.known, found.note) == (code, True, None)


def test_an_unknown_unit_is_c62_and_stays_visible():
    found = unit_code_for("Eimer")
    assert (found.code, found.known, found.note) == ("C62", False, "Einheit / unit: Eimer")
    assert unit_code_for(None).code == "C62" and unit_code_for("").known


def test_skonto_lines_in_kosits_form():
    assert skonto_line(Skonto(days=10, percent=D("2"))) == "#SKONTO#TAGE=10#PROZENT=2.00#"
    assert skonto_line(Skonto(days=14, percent=D("1.5"), basis_amount=D("800"))) == (
        "#SKONTO#TAGE=14#PROZENT=1.50#BASISBETRAG=800.00#")


def test_tax_breakdown_per_rate_less_the_header_discount():
    lines = (line(1, "A", "3", "Stunde", "33.33"), line(2, "B", "1", "Stück", "10.00", rate="7"),
             line(3, "C", "1", "Stück", "0.01"))
    rows = tax_breakdown(lines, (DocumentAllowance(amount=D("10.00"), tax_category=TaxCategory.STANDARD,
                                                   tax_rate=D("19")),))
    assert [(r.rate, r.basis_amount, r.tax_amount) for r in rows] == [(D("19"), D("90.00"), D("17.10")),
                                                                      (D("7"), D("10.00"), D("0.70"))]


def test_tax_breakdown_refuses_what_the_law_would():
    with pytest.raises(ValueError, match="takes rate 0"):
        tax_breakdown((line(1, "A", "1", "Stück", "1.00", rate="19", category=TaxCategory.REVERSE_CHARGE),))
    with pytest.raises(ValueError, match="exemption reason"):
        tax_breakdown((line(1, "A", "1", "Stück", "1.00", rate="0", category=TaxCategory.EXEMPT),))
    with pytest.raises(ValueError, match="no line has"):
        tax_breakdown((line(1, "A", "1", "Stück", "1.00"),),
                      (DocumentAllowance(amount=D("1.00"), tax_category=TaxCategory.STANDARD, tax_rate=D("7")),))
    exempt = tax_breakdown((line(1, "Schulung", "1", "Tag", "500.00", rate="0", category=TaxCategory.EXEMPT),),
                           exemption_reasons={TaxCategory.EXEMPT: ("Steuerfrei nach § 4 Nr. 21 UStG", None)})
    assert exempt[0].exemption_reason == "Steuerfrei nach § 4 Nr. 21 UStG"
