"""The rooms' arrows (docs/architecture.md) are import-linter contracts in pyproject.toml.

`lint-imports` must keep every contract on this tree, and must break one when a forbidden import
is planted in a scratch copy (so the check is known to be able to fail).
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 - runs the project's own checker
import sys
from pathlib import Path

import pytest

from tests.support.ci_files import ROOT

pytestmark = pytest.mark.timeout(180)
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{root / 'runner' / 'src'}:{root / 'src'}"}
    return subprocess.run(  # nosec B603
        [LINT_IMPORTS, "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
        timeout=150, stdin=subprocess.DEVNULL)


def _scratch(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "runner" / "src", copy / "runner" / "src", ignore=ignore)
    shutil.copytree(ROOT / "src", copy / "src", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_every_contract_is_kept() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("planted_in", "line", "contract"), [
    ("runner/src/finsig_runner/core/hashing.py", "import finsig_runner.stages.registry",
     "core imports nothing above it BROKEN"),
    ("runner/src/finsig_runner/engine/plan.py", "import finsig_runner.stages.lint",
     "the engine uses core only: it imports no stage and no evidence BROKEN"),
    ("runner/src/finsig_runner/evidence/document.py", "import finsig_runner.engine.run",
     "evidence uses core only: it imports no stage and no engine BROKEN"),
    ("src/finsig/app.py", "import finsig_runner.core.model",
     "the app and the runner never import each other BROKEN"),
])
def test_a_planted_forbidden_import_breaks_its_contract(tmp_path: Path, planted_in: str,
                                                        line: str, contract: str) -> None:
    copy = _scratch(tmp_path)
    target = copy / planted_in
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # planted\n",
                      encoding="utf-8")
    done = _lint(copy)
    assert done.returncode != 0
    assert contract in done.stdout, done.stdout
