"""Static checks, run with the virtualenv's own tools and the settings in pyproject.toml: mypy on
the ground floor and the process runtime (strict, [tool.mypy]) and ruff on the whole project
([tool.ruff]). A finding fails the test with the tool's own output. Both are marked
`static_checks` (`scripts/test -m static_checks` runs just these). Each keeps its cache in the
project (.mypy_cache/, .ruff_cache/, both .gitignored), so a run after a run takes a second or two
(a first mypy run some 15 s)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.static_checks


def run_tool(module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The venv's tool (python -m: the interpreter running the tests is the venv's), in the project."""
    return subprocess.run([sys.executable, "-m", module, *arguments], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, check=False)


def test_mypy_is_clean_on_kernel_and_runtime():
    # the files and packages are pyproject.toml's ([tool.mypy] files): kernel/ and runtime/
    result = run_tool("mypy", "--no-color-output", "--no-pretty")
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"


def test_ruff_is_clean():
    result = run_tool("ruff", "check", "--no-fix", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff found problems:\n{result.stdout}{result.stderr}"
