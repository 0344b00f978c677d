"""The accounting module: the DATEV export of bookings and the charts of accounts it uses."""
from __future__ import annotations

from kernel.module import Module

MODULE = Module(
    name="accounting",
    package="domain.accounting",
    public=("datev", "charts", "module"),
)
