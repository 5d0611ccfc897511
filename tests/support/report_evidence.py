"""A hand-made evidence directory for the run report's unit tests, in the formats real runs write
(shapes copied from a real `make pipeline` run), with hostile text planted wherever the project
under test or another site could put some: test names and messages, findings, paths, reasons.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from finsig_runner.core.events import EventLog

# What a hostile project or site would try: markup, a style breakout, quotes, a script URL,
# a Markdown link and table breakout, and text that is not ASCII.
HOSTILE = ("<script>alert(\"x\")</script></style>\"q\" 'a' javascript:alert(1) "
           "[md](javascript:alert(2)) | ![i](http://127.0.0.1:9/i.png) naïve ✓ &amp;")
RUN_ID = "20261205T000000Z-0badc0de"
T0 = "2026-12-05T10:00:00.000Z"


def _json(root: Path, rel: str, data: Any) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _junit(name: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
            'tests="3" failures="1" errors="1" skipped="0">'
            '<testcase classname="tests.test_demo" name="test_ok" time="0.1"/>'
            f'<testcase classname="tests.test_demo" name={quoteattr(name)} time="0.1">'
            f'<failure message={quoteattr("AssertionError: " + HOSTILE)}>E   boom</failure>'
            '</testcase><testcase classname="tests.test_demo" name="test_err" time="0.1">'
            '<error message="fixture broke">E   RuntimeError: fixture broke</error>'
            '</testcase></testsuite></testsuites>\n')


def _coverage() -> str:
    def cls(name: str, hits: list[int]) -> str:
        lines = "".join(f'<line number="{i + 1}" hits="{h}"/>' for i, h in enumerate(hits))
        return (f'<class name="m" filename={quoteattr(name)} line-rate="0">'
                f"<lines>{lines}</lines></class>")
    return ('<?xml version="1.0" ?><coverage line-rate="0.75"><packages><package name="demo">'
            f'<classes>{cls("src/demo/good.py", [1, 1, 1, 1])}'
            f'{cls("src/demo/" + HOSTILE + ".py", [1, 0, 0, 1])}'
            '</classes></package></packages></coverage>\n')


def _stage_events(log: EventLog) -> None:
    log.append("project_env", phase="start")
    log.append("project_env", phase="end", status="PASSED", duration=2.0, reason="")
    for stage, status, reason in (("tests", "FAILED", HOSTILE), ("lint", "FAILED", "1 finding"),
                                  ("security", "PASSED", ""), ("build", "PASSED", ""),
                                  ("image", "PASSED", ""), ("staging", "PASSED", "")):
        log.append("stage_start", stage=stage)
        log.append("stage_end", stage=stage, status=status, reason=reason, duration=0.5)


def write(root: Path) -> Path:
    """The evidence under `root` (reports/, artifacts/); returns root."""
    _json(root, "reports/flake8-report.json", {"tool": "flake8", "count": 1, "findings": [
        {"path": f"src/{HOSTILE}.py", "line": 3, "col": 1, "code": "E999", "text": HOSTILE}]})
    _json(root, "reports/mypy-report.json", {"tool": "mypy", "count": 1, "errors": [
        {"path": "src/demo/a.py", "line": 7, "code": "arg-type", "text": HOSTILE}]})
    _json(root, "reports/security-report.json", {
        "findings": [
            {"tool": "bandit", "severity": "MEDIUM", "id": "B307", "title": HOSTILE,
             "location": "src/demo/unsafe.py:2"},
            {"tool": "safety", "severity": "HIGH", "id": "PYSEC-2024-60", "title": HOSTILE,
             "location": "requirements/core.txt", "package": "idna==3.6"}],
        "database": {"source": HOSTILE, "source_date": "2024-10-10", "age_days": 786},
        "policy": {"vulndb_max_age_days": 365}})
    _json(root, "reports/build-report.json", {"files": {f"{HOSTILE}.whl": "ab" * 32}, "checks": [
        {"id": "build.reproducible", "status": "PASSED", "detail": "two builds byte-identical"}]})
    _json(root, "reports/image-report.json", {
        "image_id": "sha256:" + "cd" * 32, "tag": "finsig/app:run-x", "tar_sha256": "ef" * 32,
        "checks": [{"id": "image.reproducible", "status": "FAILED", "detail": HOSTILE}]})
    _json(root, "reports/deploy-report.json", {
        "status": "PASSED", "reason": "",
        "services": {HOSTILE: {"image": "finsig/postgres:0.1.0", "started_s": 0.1,
                               "ready_after_s": 2.5},
                     "app": {"image": "finsig/app:run-x", "started_s": 2.7, "ready_after_s": 3}},
        "checks": [
            {"id": "staging.targets", "status": "PASSED", "seconds": 4.1, "detail": HOSTILE,
             "data": {"targets": []}},
            {"id": f"staging.alert.{HOSTILE}", "status": "PASSED", "seconds": 14.6,
             "detail": "firing", "data": {"prometheus_s": 14.6, "alertmanager_s": 14.7}}]})
    _json(root, "reports/stages/tests.json", {"summary": {"coverage_min": 80.0}})
    (root / "reports" / "test-results.xml").write_text(
        _junit(f"test_hostile[{HOSTILE}]"), encoding="utf-8")
    (root / "reports" / "coverage.xml").write_text(_coverage(), encoding="utf-8")
    log = EventLog(root / "artifacts" / "ci_cd_events.log")
    log.append("run_start", run_id=RUN_ID, runner_version="0.1.0", mode="full", partial=False)
    _stage_events(log)
    _json(root, "artifacts/artifact-validation.json", {
        "kind": "run", "run_id": RUN_ID, "status": "FAILED", "started": T0,
        "ended": "2026-12-05T10:00:09.000Z", "partial": False,
        "runner": {"version": "0.1.0", "image_id": None},
        "source": {"commit": HOSTILE, "dirty": True},
        "verdict": {"failures": [{"id": "tests.pass", "status": "FAILED", "reason": HOSTILE}]},
        "signing": {"expected_signer": None, "reason": "no expected_signer configured",
                    "allow_unsigned_jobs": False},
        "event_log": {"path": "artifacts/ci_cd_events.log", "lines": 3, "chain_hash": "00" * 32},
        "files": [{"path": p, "size": 1, "sha256": "11" * 32} for p in (
            "reports/flake8-report.json", f"reports/{HOSTILE}.json", "javascript:alert(1)",
            "../../etc/passwd", "reports/../../etc/passwd", "/etc/passwd")]})
    return root
