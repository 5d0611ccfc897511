"""What the security stage's scanners found, in one shape for bandit and safety."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finsig_runner.core.context import ToolRun

SEVERITIES = ("LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class Finding:
    tool: str
    severity: str
    id: str
    title: str
    location: str  # file:line for code, the lock file for a dependency
    package: str = ""  # name==version for a dependency
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tool": self.tool,
            "severity": self.severity,
            "id": self.id,
            "aliases": list(self.aliases),
            "title": self.title,
            "location": self.location,
        }
        if self.package:
            data["package"] = self.package
        data.update(self.extra)
        return data


@dataclass
class ToolOutcome:
    """One scanner's part: its findings, or why it could not give any."""

    name: str
    version: str = ""
    findings: list[Finding] = field(default_factory=list)
    error: str = ""
    skipped: str = ""
    raw: Path | None = None
    scanned: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.error:
            data["error"] = self.error
        if self.skipped:
            data["skipped"] = self.skipped
        if self.raw is not None:
            data["raw_report"] = self.raw.name
        data.update(self.scanned)
        return data


def read_report(outcome: ToolOutcome, run: ToolRun, raw: Path, key: str
                ) -> tuple[dict[str, Any], list[Any]] | None:
    """The report the tool saved and its `key` list; None, with outcome.error saying why, when
    the tool timed out or left no readable report."""
    if run.timed_out:
        outcome.error = f"timed out after {run.duration:.0f}s"
        return None
    try:
        data = json.loads(raw.read_text(encoding="utf-8"))
        items = data[key]
        if not isinstance(data, dict) or not isinstance(items, list):
            raise TypeError(f"{key!r} is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        outcome.error = f"no readable JSON report (exit {run.returncode}): {exc}"
        return None
    outcome.raw = raw
    return data, items
