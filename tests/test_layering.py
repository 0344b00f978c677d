"""The import graph is a specification. The layers (pyproject.toml, [tool.importlinter]): the
command on top, then the API and the flows, the wiring, the business modules, mail, the process
runtime, and the kernel, which imports nothing of Kontor; no layer imports one above it, so no two
top-level packages import each other. A business module imports only the public interface of
another (kernel.module.Module.public), and routers hold no SQL."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from kontor.modules import MODULES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kernel", "runtime", "mailers", "domain", "kontor", "api", "flows", "cli")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_layer_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None, exclude_type_checking_imports=True)


def internals_imported(graph, module) -> list[str]:
    """Imports of the business module's internal submodules from outside the module."""
    found = []
    for imported in sorted(graph.find_descendants(module.package)):
        submodule = imported[len(module.package) + 1:].split(".")[0]
        if submodule in module.public:
            continue
        for importer in sorted(graph.find_modules_that_directly_import(imported)):
            if importer.startswith("domain.") and not importer.startswith(module.package + "."):
                found.append(f"{importer} imports {imported}, internal to {module.name}")
    return found


def test_business_modules_use_only_each_others_public_interface(graph):
    business = [module for module in MODULES if module.package]
    assert {m.name for m in business} >= {"customers", "catalog", "sales", "offers", "orders"}
    assert [offence for module in business for offence in internals_imported(graph, module)] == []


def test_the_check_of_internals_sees_an_offence(graph):
    offers = next(module for module in MODULES if module.name == "offers")
    assert "approval" not in offers.public
    assert internals_imported(graph, offers) == []
    graph.add_import(importer="domain.orders.commands", imported="domain.offers.approval")
    try:
        assert internals_imported(graph, offers) == [
            "domain.orders.commands imports domain.offers.approval, internal to offers"]
    finally:
        graph.remove_import(importer="domain.orders.commands", imported="domain.offers.approval")


def test_every_submodule_of_a_business_module_is_public_or_internal_by_intent():
    """A public name that is not a submodule is a typo that would hide nothing."""
    for module in MODULES:
        if module.package:
            folder = ROOT.joinpath(*module.package.split("."))
            present = {path.stem for path in folder.glob("*.py")} | {path.name for path in folder.iterdir()
                                                                     if (path / "__init__.py").exists()}
            assert set(module.public) <= present, module.name


def test_routers_hold_no_sql():
    files = sorted((ROOT / "api" / "routers").rglob("*.py"))
    assert files
    offences = [f"{path.relative_to(ROOT)} imports {name}" for path in files for name in sorted(imported_modules(path))
                if name.split(".")[0] == "sqlalchemy"]
    assert offences == []
