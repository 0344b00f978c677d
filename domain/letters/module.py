"""The letters module: the business letter that offers, order confirmations, invoices, credit notes
and dunning letters are printed as. It has no tables, processes or routes of its own; other
modules use its public parts to write and render their documents."""
from __future__ import annotations

from kernel.module import Module

MODULE = Module(
    name="letters",
    package="domain.letters",
    public=("render", "context", "columns", "texts", "module"),
)
