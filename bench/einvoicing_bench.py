"""E-invoice costs, printed (not part of `scripts/bench`'s sections: pure, no database):

    .venv/bin/python -m bench.einvoicing_bench [--rounds 50]

compile time of each rule set (the Saxon processor's start counted apart), validation per invoice
(CEN only, CEN + KoSIT, CEN + Factur-X profile), XML generation, PDF embedding and read-back."""
from __future__ import annotations

import argparse
import statistics
import time

from domain.einvoicing import validation
from domain.einvoicing.generate import invoice_xml
from domain.einvoicing.hybrid_pdf import embed_invoice_xml, extract_invoice_xml, read_figures
from domain.einvoicing.model import Flavour
from tests.einvoicing_support import domestic_invoice


def ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms"


def timed(action, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    einvoice = domestic_invoice(buyer_reference="991-12345-67")
    saxon = validation._SAXON
    start = time.perf_counter()
    with saxon._lock:
        saxon._executable(validation.CEN_CII)
    print(f"Saxon processor + first compile (EN16931-CII)  {time.perf_counter() - start:7.3f} s")
    for rules in (validation.CEN_UBL, validation.KOSIT_CII, validation.KOSIT_UBL, validation.FACTURX_EN16931,
                  validation.CEN_CII):
        saxon._executables.pop(rules, None)
        start = time.perf_counter()
        saxon.compile(rules)
        print(f"compile {rules.name:38} {time.perf_counter() - start:7.3f} s")
    xml = {flavour: invoice_xml(einvoice, flavour) for flavour in Flavour}
    for flavour in Flavour:
        validation.validate(xml[flavour], flavour)  # warm
    print(f"generate XML, CII (Factur-X)        {ms(timed(lambda: invoice_xml(einvoice), rounds))}")
    print(f"generate XML, UBL (XRechnung)       "
          f"{ms(timed(lambda: invoice_xml(einvoice, Flavour.XRECHNUNG_UBL), rounds))}")
    cii = xml[Flavour.XRECHNUNG_CII]
    ubl = xml[Flavour.XRECHNUNG_UBL]
    print(f"XSD only, CII                       {ms(timed(lambda: validation._schema_violations(_root(cii)), rounds))}")
    single_sets = (("CEN only, CII", validation.CEN_CII, cii), ("CEN only, UBL", validation.CEN_UBL, ubl),
                   ("KoSIT only, CII", validation.KOSIT_CII, cii), ("KoSIT only, UBL", validation.KOSIT_UBL, ubl),
                   ("Factur-X profile only", validation.FACTURX_EN16931, xml[Flavour.FACTURX_EN16931]))
    for label, rules, document in single_sets:
        print(f"{label:36}{ms(timed(lambda r=rules, d=document: saxon.transform(r, d), rounds))}")
    for flavour in Flavour:
        print(f"validate {flavour.value:27}"
              f"{ms(timed(lambda f=flavour: validation.validate(xml[f], f), rounds))}")
    from weasyprint import HTML
    start = time.perf_counter()
    pdf = HTML(string="<h1>Rechnung</h1><p>Positionen …</p>").write_pdf(pdf_variant="pdf/a-3b")
    print(f"WeasyPrint, a one-page PDF/A-3b      {(time.perf_counter() - start) * 1000:7.1f} ms (first)")
    facturx = xml[Flavour.FACTURX_EN16931]
    print(f"embed factur-x.xml                  {ms(timed(lambda: embed_invoice_xml(pdf, facturx), rounds))}")
    hybrid = embed_invoice_xml(pdf, facturx)
    print(f"extract + read figures              "
          f"{ms(timed(lambda: read_figures(extract_invoice_xml(hybrid)[1]), rounds))}")


def _root(xml: bytes):
    from lxml import etree
    return etree.fromstring(xml)


if __name__ == "__main__":
    main()
