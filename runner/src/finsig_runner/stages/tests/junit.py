"""Read a JUnit XML report (pytest's or mypy's) into counts and the ids of failing cases."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # nosec B405 - parses reports our own tools just wrote
from dataclasses import dataclass, field
from pathlib import Path

from finsig_runner.core.errors import ToolError


class JUnitError(ToolError):
    """The report is missing or not JUnit XML: the tool that should have written it broke (exit
    3)."""


@dataclass(frozen=True)
class CaseFailure:
    id: str
    kind: str  # "failure" or "error"
    message: str


@dataclass(frozen=True)
class JUnitSummary:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    failed: list[CaseFailure] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    def to_json(self) -> dict[str, int]:
        return {
            "tests": self.tests,
            "passed": self.passed,
            "failures": self.failures,
            "errors": self.errors,
            "skipped": self.skipped,
        }


def read(path: Path) -> JUnitSummary:
    try:
        root = ET.parse(path).getroot()  # nosec B314 - a local report, not untrusted input
    except (OSError, ET.ParseError) as exc:
        raise JUnitError(f"{path}: {exc}") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitError(f"{path}: root element <{root.tag}> is not JUnit")
    tests = failures = errors = skipped = 0
    failed: list[CaseFailure] = []
    for case in root.iter("testcase"):
        tests += 1
        for kind in ("failure", "error"):
            node = case.find(kind)
            if node is not None:
                if kind == "failure":
                    failures += 1
                else:
                    errors += 1
                failed.append(CaseFailure(_case_id(case), kind, _message(node)))
        if case.find("skipped") is not None:
            skipped += 1
    return JUnitSummary(tests, failures, errors, skipped, failed)


def _message(node: ET.Element) -> str:
    """pytest's own `E   ...` line when there is one (a collection failure says little else)."""
    explained = [ln[1:].strip() for ln in (node.text or "").splitlines() if ln.startswith("E ")]
    if explained:
        return explained[-1]
    lines = (node.get("message") or node.text or "").strip().splitlines()
    return lines[0] if lines else ""


def _case_id(case: ET.Element) -> str:
    classname = case.get("classname", "")
    name = case.get("name", "")
    return f"{classname}::{name}" if classname else name
