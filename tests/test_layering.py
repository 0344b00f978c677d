"""The layers stay apart: business rules and the runtime never reach up into the API or the flows,
and routers hold no SQL (they parse, call the domain and shape the answer)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}/"
    return [f"{path.relative_to(ROOT)} imports {module}" for path in files for module in sorted(imported_modules(path))
            if module.split(".")[0] in forbidden]


@pytest.mark.parametrize("folder", ["domain", "runtime", "mailers"])
def test_business_rules_and_runtime_do_not_import_the_api_or_the_flows(folder):
    assert offending(folder, ("api", "flows")) == []


def test_routers_hold_no_sql():
    assert offending("api/routers", ("sqlalchemy",)) == []


def test_the_check_sees_an_offence(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from api.schemas import Text\nimport sqlalchemy.orm\n")
    assert imported_modules(bad) == {"api.schemas", "sqlalchemy.orm"}


def test_the_mail_package_imports_no_business_module():
    """Business modules register what mail routing asks of them (mailers/routes.py); the mail
    package never imports them."""
    assert offending("mailers", ("domain",)) == []


def test_the_kernel_imports_nothing_of_kontor():
    assert offending("kernel", ("domain", "runtime", "mailers", "api", "flows", "kontor")) == []
