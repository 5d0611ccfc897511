"""The view model (report/load.py, report/critical.py) over hand-made evidence in real formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finsig_runner.report import load, reading
from finsig_runner.report.critical import columns, critical_path, reduced
from finsig_runner.report.model import PROJECT_ENV, StageRow

from tests.support import report_evidence as ev

pytestmark = pytest.mark.timeout(60)

GRAPH = {"tests": ("project-env",), "lint": (), "security": (), "build": (),
         "image": ("build",), "staging": ("image",)}


@pytest.fixture()
def evidence(tmp_path: Path) -> Path:
    return ev.write(tmp_path)


def test_every_part_of_the_page_is_read(evidence: Path) -> None:
    run = load.load_run(evidence, GRAPH)
    assert run.problems == ()
    assert run.verdict.status == "FAILED"
    assert run.verdict.failures[0].reason == ev.HOSTILE
    assert run.identity.run_id == ev.RUN_ID and run.identity.commit == ev.HOSTILE
    assert run.identity.dirty is True and not run.signature.signed
    tests = run.tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.failed, tests.errors) == (3, 1, 1, 1)
    assert tests.failures[0].id == f"tests.test_demo::test_hostile[{ev.HOSTILE}]"
    assert tests.failures[0].message == f"AssertionError: {ev.HOSTILE}"
    assert run.coverage is not None and run.coverage.percent == 75.0
    assert run.coverage.minimum == 80.0
    assert [c.percent for c in run.coverage.files] == [50.0, 100.0]  # worst first
    groups = {g.tool: g for g in run.findings}
    assert groups["flake8"].files[0].path == f"src/{ev.HOSTILE}.py"
    assert groups["flake8"].status == "FAILED" and groups["flake8"].count == 1
    bandit = groups["bandit"].files[0]
    assert (bandit.path, bandit.findings[0].line, bandit.findings[0].code) == (
        "src/demo/unsafe.py", 2, "B307")
    assert groups["safety"].files[0].findings[0].message.startswith("idna==3.6: ")
    assert run.vulndb is not None and run.vulndb.old and run.vulndb.age_days == 786
    assert run.build is not None and run.build.reproducible is not None
    assert run.image is not None and run.image.reproducible is not None
    assert run.image.reproducible.status == "FAILED"
    staging = run.staging
    assert staging is not None
    assert [d.alert for d in staging.drills] == [ev.HOSTILE]
    assert [c.id for c in staging.scrape] == ["staging.targets"]
    assert {s.name: s.start for s in staging.services}["app"] == 2.7
    assert run.chain.lines == 15 and run.chain.broken == "" and len(run.chain.head) == 64
    assert run.chain.document_head == "00" * 32


def test_stages_come_from_the_event_log_with_the_graph(evidence: Path) -> None:
    run = load.load_run(evidence, GRAPH)
    rows = {s.name: s for s in run.stages}
    assert run.stages[0].name == PROJECT_ENV
    assert rows["image"].requires == ("build",)
    assert rows["tests"].status == "FAILED" and rows["tests"].reason == ev.HOSTILE
    assert all(r.start is not None and r.duration is not None for r in run.stages)
    assert rows["staging"].critical  # it ended last


def test_a_directory_without_a_document_still_renders(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "x.txt").write_text("x")
    run = load.load_run(tmp_path)
    assert run.verdict.status == "UNKNOWN" and run.stages == ()
    assert [f.path for f in run.files] == ["reports/x.txt"]


def test_unreadable_files_are_named_not_fatal(
        evidence: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (evidence / "reports" / "flake8-report.json").write_text("{not json")
    bomb = ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><testsuites>&b;</testsuites>')
    (evidence / "reports" / "test-results.xml").write_text(bomb)
    (evidence / "reports" / "coverage.xml").write_bytes(b"<coverage><unclosed></coverage>")
    (evidence / "reports" / "deploy-report.json").write_text(json.dumps(
        {"services": {"x": {"ready_after_s": "NaN", "started_s": float("inf")}},
         "checks": "not a list"}))
    monkeypatch.setattr(reading, "MAX_BYTES", 200)
    run = load.load_run(evidence)
    text = "\n".join(run.problems)
    assert "reports/flake8-report.json: not readable JSON" in text
    assert "reports/test-results.xml: declares a DTD or entities, not read" in text
    assert "reports/coverage.xml: not well-formed XML" in text
    assert "artifacts/artifact-validation.json: larger than" in text
    assert run.tests is None and run.coverage is None
    assert run.staging is not None
    assert run.staging.services[0].ready_after is None and run.staging.services[0].start is None


def test_a_broken_chain_is_shown(evidence: Path) -> None:
    log = evidence / "artifacts" / "ci_cd_events.log"
    lines = log.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if b'"lint"' in line)
    lines[at] = lines[at].replace(b'"lint"', b'"lynt"')
    log.write_bytes(b"\n".join(lines))
    run = load.load_run(evidence)
    assert f"line {at + 1}" in run.chain.broken and run.chain.lines is None
    assert str(evidence) not in run.chain.broken


def _row(name: str, start: float, took: float, *requires: str) -> StageRow:
    return StageRow(name, "PASSED", "", start, took, requires)


def test_the_critical_path_follows_prerequisites_and_job_slots() -> None:
    rows = [
        _row("env", 0, 10), _row("lint", 0, 1), _row("build", 1, 5),
        _row("tests", 10, 30, "env"),  # ends 40
        _row("image", 6, 20, "build"),  # ends 26
        _row("staging", 40, 10, "image"),  # waited for a slot: tests ended at 40
        _row("validate", 50, 2, "tests", "staging"),
    ]
    assert critical_path(rows) == ("env", "tests", "staging", "validate")
    rows[5] = _row("staging", 26, 10, "image")  # started as soon as image ended
    rows[6] = _row("validate", 40, 2, "tests", "staging")
    assert critical_path(rows) == ("env", "tests", "validate")
    assert critical_path([]) == ()


def test_the_graph_is_drawn_reduced_and_late() -> None:
    graph = {"build": (), "image": ("build",), "staging": ("image", "build"), "lint": (),
             "validate": ("build", "image", "staging", "lint")}
    assert reduced(graph) == {"build": (), "image": ("build",), "staging": ("image",),
                              "lint": (), "validate": ("staging", "lint")}
    assert columns(reduced(graph)) == {"build": 0, "image": 1, "staging": 2, "lint": 2,
                                       "validate": 3}
    assert columns({"a": ("b",), "b": ("a",)}) == {"a": 0, "b": 0}  # a cycle: one column
