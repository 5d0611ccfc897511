"""docs/architecture.md's "Adding a stage" example, run as written through the real engine.

The toy stage's code is read from the document (between its markers) and the engine is handed a
registry extended with it; nothing is loaded from the project under test.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.core.model import RunStatus, Stage, Status
from finsig_runner.engine.plan import build_plan
from finsig_runner.engine.run import Engine
from finsig_runner.stages.registry import build_registry
from finsig_runner.stages.validate.stage import ValidateStage

from tests.support import evidence_set as es
from tests.support.ci_files import ROOT

pytestmark = pytest.mark.timeout(60)
EXAMPLE = re.compile(r"<!-- adding-a-stage:begin -->\s*```python\n(.*?)```\s*"
                     r"<!-- adding-a-stage:end -->", re.S)


def _toy_stage() -> Stage:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    match = EXAMPLE.search(text)
    assert match, "docs/architecture.md lost its adding-a-stage example"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), "docs/architecture.md", "exec"), namespace)  # nosec B102
    stage: Stage = namespace["TodoStage"]()
    return stage


def _run(root: Path) -> tuple[int, dict[str, Any]]:
    toy = _toy_stage()
    validate = replace(ValidateStage.after([toy]), make_sboms=es.fake_sboms)
    registry = build_registry([toy, validate])
    outcome = Engine(registry, root, es.config(), handle_signals=False).run(build_plan(registry))
    assert outcome.status in (RunStatus.PASSED, RunStatus.FAILED)
    doc = json.loads((root / "artifacts" / "artifact-validation.json").read_text())
    return outcome.exit_code, doc


def test_the_toy_stage_runs_through_the_real_engine(tmp_path: Path) -> None:
    root = es.workspace(tmp_path / "ws")
    (root / "src").mkdir()
    (root / "src" / "done.py").write_text("x = 1\n")
    code, doc = _run(root)
    assert code == 0 and doc["status"] == "PASSED"
    assert {"id": "todo.none", "status": "PASSED", "detail": "none left",
            "required": True} in doc["checks"]
    result = json.loads((root / "reports" / "stages" / "todo.json").read_text())
    assert result["status"] == Status.PASSED.value
    assert result["outputs"][0]["path"] == "reports/todo-report.txt"

    (root / "src" / "later.py").write_text("y = 2  # TODO: later\n")
    code, doc = _run(root)
    assert code == 1 and doc["status"] == "FAILED"
    assert doc["verdict"]["failures"][0]["id"] == "todo.none"
    assert "src/later.py:1" in (root / "reports" / "todo-report.txt").read_text()
