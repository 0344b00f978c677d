"""The module contract (kernel.module): everything central is derived from the one list of modules
(kontor.modules), and each table, router, series and trace kind belongs to exactly one module."""
from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from kernel.module import Module, NumberSeries, check_modules
from kontor.modules import MODULES
from kontor.schema import metadata, tables_by_module

ROOT = Path(__file__).resolve().parent.parent

extra_router = APIRouter(prefix="/extra-module-probe")


@extra_router.get("")
def _probe() -> dict:
    return {"served": True}


def test_every_table_belongs_to_exactly_one_module():
    owners: dict[str, list[str]] = {}
    for module, tables in tables_by_module().items():
        for table in tables:
            owners.setdefault(table, []).append(module)
    assert set(owners) == set(metadata.tables), "a table on the metadata that no module declares, or the reverse"
    assert {table: mods for table, mods in owners.items() if len(mods) > 1} == {}


def test_every_router_of_the_api_belongs_to_exactly_one_module():
    declared = [name for module in MODULES for name in (*module.routers, *module.public_routers)]
    assert len(declared) == len(set(declared))
    present = set()
    for path in sorted((ROOT / "api" / "routers").glob("*.py")):
        module = importlib.import_module(f"api.routers.{path.stem}")
        present |= {f"api.routers.{path.stem}:{name}" for name, value in vars(module).items()
                    if isinstance(value, APIRouter) and value.prefix != ""}
    assert present == set(declared)


def _literal_trace_kinds(path: Path) -> set[str]:
    kinds = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record_trace":
            kind = node.args[2] if len(node.args) > 2 else None
            candidates = [kind.body, kind.orelse] if isinstance(kind, ast.IfExp) else [kind]
            kinds |= {c.value for c in candidates if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return kinds


def test_every_trace_kind_written_is_declared_by_a_module():
    declared = {kind for module in MODULES for kind in module.trace_kinds}
    written = set()
    for package in ("domain", "mailers", "runtime"):
        for path in (ROOT / package).rglob("*.py"):
            written |= _literal_trace_kinds(path)
    assert written, "the scan found no trace at all: it no longer sees record_trace calls"
    assert written - declared == set()


def test_the_contract_refuses_what_two_modules_both_claim():
    series = NumberSeries("offer", "X-", 3)
    with pytest.raises(ValueError, match="number series 'offer'"):
        check_modules((*MODULES, Module(name="copycat", number_series=(series,))))
    with pytest.raises(ValueError, match="module name 'offers'"):
        check_modules((*MODULES, Module(name="offers")))
    with pytest.raises(ValueError, match="not among its trace kinds"):
        Module(name="careless", customer_trace_kinds=("secret",))


def test_a_new_module_is_one_line_in_the_list(kontor_app):
    """A module added to the list is wired and its routers are served, nothing else changed."""
    from api.app import create_app
    from kontor.bootstrap import wire_modules

    wired = []
    extra = Module(name="extra", wire=wired.append, routers=("tests.test_modules:extra_router",),
                   processes=("extra_process",))
    kontor = dataclasses.replace(kontor_app, modules=(*kontor_app.modules, extra))
    runtime_before = set(kontor.runtime.domain_processes)
    try:
        wire_modules(kontor)
        assert wired == [kontor]
        assert "extra_process" in kontor.runtime.domain_processes
        with TestClient(create_app(kontor)) as client:
            answer = client.get("/api/v1/extra-module-probe")
        assert answer.json() == {"served": True}
    finally:
        kontor.runtime.domain_processes.clear()
        kontor.runtime.domain_processes.update(runtime_before)
