"""What the security stage's scanners found, in one shape for bandit and safety."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
