"""The e-invoice module: an invoice or credit note, described in EN 16931 terms (model), becomes
validated XML (CII for Factur-X/ZUGFeRD and XRechnung, UBL for XRechnung) and a PDF/A-3 with the XML
inside. Pure: no tables, no routes, no settings; the invoicing module calls it when it issues."""
from __future__ import annotations

from kernel.module import Module

MODULE = Module(
    name="einvoicing",
    package="domain.einvoicing",
    public=("model", "units", "figures", "generate", "validation", "hybrid_pdf", "module"),
)
