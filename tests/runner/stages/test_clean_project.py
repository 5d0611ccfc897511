"""A clean project passes every stage, and each stage leaves the evidence it promises."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET  # nosec B405 - our own reports

import pytest

from finsig_runner.core.model import Status

from .conftest import Demo
from tests.support.sample_project import COMMIT_EPOCH, DB_SOURCE_DATE, HAS_GIT
from tests.support.run_stages import run_all


@pytest.mark.timeout(600)
def test_clean_project_passes_every_stage(demo: Demo) -> None:
    results = run_all(demo.root, demo.config(), demo.bin)
    assert {n: r.status for n, r in results.items()} == {n: Status.PASSED for n in results}, {
        n: r.reason for n, r in results.items()
    }
    reports, artifacts = demo.root / "reports", demo.root / "artifacts"
    for result in results.values():
        assert result.outputs and all(c.status is Status.PASSED for c in result.checks)
        for out in result.outputs:
            data = (demo.root / out.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == out.sha256 and len(data) == out.size

    tests = results["tests"]
    assert tests.summary["tests"] == 2 and tests.summary["failures"] == 0
    assert tests.summary["coverage_percent"] == 100.0
    assert set(tests.tool_versions) == {"pytest", "pytest-cov", "coverage"}
    assert ET.parse(reports / "coverage.xml").getroot().tag == "coverage"
    assert (reports / "coverage-html" / "index.html").is_file()
    assert ET.parse(reports / "test-results.xml").getroot().tag == "testsuites"

    lint = json.loads((reports / "flake8-report.json").read_text())
    assert lint["count"] == 0 and lint["version"] == results["lint"].tool_versions["flake8"]
    assert ET.parse(reports / "mypy-junit.xml").getroot().tag in ("testsuite", "testsuites")

    security = json.loads((reports / "security-report.json").read_text())
    assert security["verdict"] == "PASSED"
    versions = {t["name"]: t["version"] for t in security["tools"]}
    assert versions == {"bandit": "1.9.4", "safety": "3.7.0"}
    assert security["database"]["source_date"] == DB_SOURCE_DATE
    assert security["database"]["age_days"] == 22
    assert security["findings"] == [] and security["counts"]["total"] == 0

    build = results["build"]
    if HAS_GIT:
        assert build.summary["source_date_epoch"] == COMMIT_EPOCH
        assert build.summary["epoch_origin"] == "git: last commit"
    lines = (artifacts / "build-hash.txt").read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((artifacts / name).read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in artifacts.iterdir()) == [
        "build-hash.txt", "demo-0.1.0-py3-none-any.whl", "demo-0.1.0.tar.gz"
    ]
