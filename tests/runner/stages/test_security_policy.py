"""The security stage's policy: the database is an input with a source and a date, and the verdict
comes from the parsed reports. (bandit and safety run for real; no project environment needed.)"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.core.model import Status
from finsig_runner.stages.security.stage import SecurityStage

from tests.runner.stages.conftest import Demo
from tests.support.sample_project import TODAY
from tests.support.sample_project import REPO, context, planted

pytestmark = pytest.mark.timeout(300)

VULNERABLE = {"requirements/core.txt": "typing-extensions==4.16.0\nidna==3.6\n"}


def run(demo: Demo, today: date = TODAY, **overrides: object) -> tuple[Status, str, dict[str, Any]]:
    ctx = context(demo.root, "security", demo.config(**overrides))
    result = SecurityStage(clock=lambda: today).run(ctx)
    report = json.loads((demo.root / "reports" / "security-report.json").read_text())
    assert report["verdict"] == result.status.value
    return result.status, result.reason, report


def test_a_vulnerable_pin_is_reported_with_id_aliases_and_database(demo: Demo) -> None:
    with planted(demo.root, VULNERABLE):
        status, reason, report = run(demo)
    assert status is Status.FAILED and "idna==3.6 PYSEC-2024-60" in reason
    [finding] = report["findings"]
    assert finding["tool"] == "safety" and finding["package"] == "idna==3.6"
    assert finding["id"] == "PYSEC-2024-60" and finding["aliases"] == ["CVE-2024-3651"]
    assert finding["location"] == "requirements/core.txt"
    assert report["database"]["source_date"] == "2024-10-10"
    bandit = {"LOW": 0, "MEDIUM": 0, "HIGH": 0}
    assert report["counts"] == {"bandit": bandit, "safety": 1, "total": 1}


def test_fail_on_vulnerable_off_reports_but_passes(demo: Demo) -> None:
    with planted(demo.root, VULNERABLE):
        status, _, report = run(demo, fail_on_vulnerable=False)
    assert status is Status.PASSED
    assert len(report["findings"]) == 1
    assert report["warnings"]


def test_a_missing_database_is_an_error_never_a_pass(demo: Demo, tmp_path: Path) -> None:
    status, reason, report = run(demo, vulndb=str(tmp_path / "absent"))
    assert status is Status.ERROR and "absent" in reason
    assert report["database"] is None


def test_an_unreadable_database_is_an_error(demo: Demo, tmp_path: Path) -> None:
    broken = tmp_path / "db"
    shutil.copytree(demo.vulndb, broken)
    (broken / "insecure_full.json").write_text("{not json")
    status, reason, _ = run(demo, vulndb=str(broken))
    assert status is Status.ERROR and "insecure_full.json" in reason


def test_a_database_in_the_old_schema_is_an_error(demo: Demo, tmp_path: Path) -> None:
    old = tmp_path / "db"
    shutil.copytree(demo.vulndb, old)
    (old / "insecure.json").write_text(json.dumps({"meta": {"schema_version": 1}, "idna": []}))
    status, reason, _ = run(demo, vulndb=str(old))
    assert status is Status.ERROR and "schema_version" in reason


def test_a_database_changed_after_its_build_is_an_error(demo: Demo, tmp_path: Path) -> None:
    edited = tmp_path / "db"
    shutil.copytree(demo.vulndb, edited)
    short = json.loads((edited / "insecure.json").read_text())
    short["vulnerable_packages"]["idna"] = ["<0"]  # hides the finding, keeps the schema
    (edited / "insecure.json").write_text(json.dumps(short))
    with planted(demo.root, VULNERABLE):
        status, reason, report = run(demo, vulndb=str(edited))
    assert status is Status.ERROR and "insecure.json: sha256" in reason
    assert report["database"] is None and report["findings"] == []


def test_an_old_database_warns_or_fails_by_policy(demo: Demo) -> None:
    later = date(2026, 1, 1)
    status, _, report = run(demo, today=later, vulndb_max_age_days=30, vulndb_age_policy="warn")
    assert status is Status.PASSED and report["warnings"]
    status, reason, _ = run(demo, today=later, vulndb_max_age_days=30, vulndb_age_policy="fail")
    assert status is Status.FAILED and "448 days old" in reason


def test_bandit_threshold_decides_on_low_findings(demo: Demo) -> None:
    module = '"""Low."""\n\nimport subprocess\n\nVERSION = subprocess.__name__\n'
    with planted(demo.root, {"src/demo/low.py": module}):
        status, _, report = run(demo, bandit_fail_severity="medium")
        assert status is Status.PASSED
        assert report["counts"]["bandit"]["LOW"] == 1
        status, reason, _ = run(demo, bandit_fail_severity="low")
    assert status is Status.FAILED and "src/demo/low.py:3 B404 LOW" in reason


REAL_DB = REPO / "vulndb"


def test_the_project_database_flags_the_vulnerable_pin(demo: Demo) -> None:
    assert (REAL_DB / "finsig-vulndb.json").is_file(), "no ./vulndb: run `make vulndb`"
    with planted(demo.root, VULNERABLE):
        status, reason, report = run(demo, vulndb=str(REAL_DB))
    assert status is Status.FAILED and "idna==3.6 PYSEC-2024-60" in reason
    found = {f["id"]: f for f in report["findings"]}
    assert "CVE-2024-3651" in found["PYSEC-2024-60"]["aliases"]
    assert report["database"]["source_date"] == "2024-10-10"
