"""The validate stage itself: an invalid document is a failure, never PASSED."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finsig_runner.core.model import Status

from tests.support import evidence_set as es

pytestmark = pytest.mark.timeout(60)


def test_a_document_that_breaks_the_schema_fails_the_stage(tmp_path: Path) -> None:
    root = es.workspace(tmp_path / "ws")
    fakes = es.stages()
    fakes[1].checks = ("lint.flake8", "lint.Bad Id With Spaces")  # not a `<stage>.<check>` id
    out = es.run(root, fakes, es.config())
    validate = out.results["validate"]
    assert validate.status is Status.FAILED and out.exit_code == 1
    schema_check = next(c for c in validate.checks if c.id == "validate.schema")
    assert schema_check.status is Status.FAILED and "checks/" in schema_check.detail
    assert (root / "artifacts" / "artifact-validation.json").is_file()  # written, and refused


def test_validate_runs_after_a_failure_and_lists_every_stage(tmp_path: Path) -> None:
    root = es.workspace(tmp_path / "ws")
    out = es.run(root, es.stages(tests=Status.ERROR), es.config())
    assert out.results["validate"].status is Status.FAILED
    doc = json.loads((root / "artifacts" / "artifact-validation.json").read_text())
    assert [(s["name"], s["status"]) for s in doc["stages"]] == [
        ("tests", "ERROR"), ("lint", "PASSED"), ("security", "PASSED"), ("build", "PASSED")]
    assert doc["vulnerability_database"] == {"source": "pypa/advisory-database@abc",
                                             "source_date": "2024-10-10"}
    assert doc["tool_versions"]["build"] == {"build-tool": "1.0"}
    assert doc["event_log"]["lines"] > 1 and doc["runner"]["image_id"] is None
