"""The module contract: what one area of Kontor (customers, offers, the process runtime, mail …)
brings with it, declared in one object beside its code. The wiring (`kontor/`) holds the one
list of modules and derives everything central from it: the tables Alembic sees, the number
series, the settings, the runtime's operations, guards and task views, the API's routers.
Adding a module is its package, its API router file(s) and one line in that list."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class NumberSeries:
    """A gapless series of record numbers: `prefix` may hold {year}, and such a series restarts
    every year (OFF-2026-0012); `digits` pads the running number."""
    key: str
    prefix: str
    digits: int

    @property
    def yearly(self) -> bool:
        return "{year}" in self.prefix


@dataclass(frozen=True)
class Module:
    """One area of Kontor, as the wiring sees it.

    - `models`: the Python modules whose import puts the area's tables on the metadata.
    - `number_series`: the series its records are numbered in.
    - `settings`: its section of the settings (one environment namespace, KONTOR_…).
    - `wire(kontor)`: registers what needs the built Kontor: service operations, task guards,
      completion handlers, task views, mail routes and record checks.
    - `processes` / `messages`: process keys and message names only this area's own records and
      channels start and send; the generic start and message endpoints refuse them.
    - `routers` / `public_routers`: "package.module:attribute" of its FastAPI routers, under
      /api/v1 or (public, no login) at the root; named, not imported, so that the business code
      never imports the API layer.
    - `trace_kinds` / `customer_trace_kinds`: the customer-timeline entries it writes, and those of
      them the customer's own portal users may see.
    - `trace_texts`: (kind, German, English) texts of its trace kinds, with `{name}` fields filled from
      the parameters a trace stores, so that each reader reads a trace in their own language; a kind
      written in more than one way has a text per variant (`kind.variant`, the parameter `variant`).
    - `templates`: folders of its mail templates, registered with the mail package at start-up.
    - `package` / `public`: the package of a business module and the submodules other modules may
      import (its interface); everything else in it is internal (tests/test_layering.py)."""
    name: str
    models: tuple[ModuleType, ...] = ()
    number_series: tuple[NumberSeries, ...] = ()
    settings: type | None = None
    wire: Callable[[Any], None] | None = None
    processes: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    routers: tuple[str, ...] = ()
    public_routers: tuple[str, ...] = ()
    trace_kinds: tuple[str, ...] = ()
    customer_trace_kinds: tuple[str, ...] = ()
    trace_texts: tuple[tuple[str, str, str], ...] = ()
    templates: tuple[Path, ...] = ()
    package: str | None = None
    public: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        hidden = set(self.customer_trace_kinds) - set(self.trace_kinds)
        if hidden:
            raise ValueError(f"module {self.name}: customer trace kinds {sorted(hidden)} are not among its trace kinds")
        foreign = {kind.split(".")[0] for kind, _, _ in self.trace_texts} - set(self.trace_kinds)
        if foreign:
            raise ValueError(f"module {self.name}: texts for trace kinds {sorted(foreign)} it does not declare")


def check_modules(modules: tuple[Module, ...]) -> None:
    """Names, series keys, processes, messages and trace kinds belong to one module each."""
    for what, values in (("module name", [(m.name, m.name) for m in modules]),
                         ("number series", [(s.key, m.name) for m in modules for s in m.number_series]),
                         ("process", [(p, m.name) for m in modules for p in m.processes]),
                         ("message", [(n, m.name) for m in modules for n in m.messages]),
                         ("trace kind", [(k, m.name) for m in modules for k in m.trace_kinds])):
        owners: dict[str, str] = {}
        for value, owner in values:
            if value in owners:
                raise ValueError(f"{what} {value!r} is declared by both {owners[value]} and {owner}")
            owners[value] = owner
