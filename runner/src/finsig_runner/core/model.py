"""The types every stage and the engine share: statuses, results, the Stage protocol.

A stage is a small module behind one Protocol. It declares what it needs (prerequisite stages,
input files, config keys, tools) and returns a StageResult; nothing else decides its status.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from finsig_runner.core.context import StageContext


class Status(str, enum.Enum):
    PASSED = "PASSED"
    FAILED = "FAILED"  # the tool ran and reported findings
    ERROR = "ERROR"  # the tool itself broke, or an input is missing
    SKIPPED = "SKIPPED"  # nothing to do here (reason says why)
    ABORTED = "ABORTED"  # a prerequisite FAILED or hit an ERROR
    CACHED = "CACHED"  # inputs unchanged: earlier evidence reused by reference

    @property
    def ok(self) -> bool:
        return self in (Status.PASSED, Status.CACHED)


@dataclass(frozen=True)
class FileDigest:
    """A file the run wrote, relative to the workspace."""

    path: str
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path, workspace: Path) -> FileDigest:
        from finsig_runner.core.hashing import sha256_file

        return cls(str(path.relative_to(workspace)), path.stat().st_size, sha256_file(path))

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Check:
    """One verdict inside a stage, with a stable id `<stage>.<check>`."""

    id: str
    status: Status
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status.value, "detail": self.detail}


@dataclass(frozen=True)
class StageInputs:
    """What a stage's result depends on; hashed into its cache key."""

    files: tuple[Path, ...] = ()
    config: tuple[tuple[str, str], ...] = ()
    tools: tuple[tuple[str, str], ...] = ()


@dataclass
class StageResult:
    stage: str
    status: Status
    reason: str = ""
    checks: list[Check] = field(default_factory=list)
    outputs: list[FileDigest] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    tool_versions: dict[str, str] = field(default_factory=dict)
    started: datetime | None = None
    ended: datetime | None = None

    @property
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return (self.ended - self.started).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "status": self.status.value,
            "reason": self.reason,
            "started": self.started.isoformat() if self.started else None,
            "ended": self.ended.isoformat() if self.ended else None,
            "duration": round(self.duration, 3),
            "checks": [c.to_json() for c in self.checks],
            "outputs": [o.to_json() for o in self.outputs],
            "summary": self.summary,
            "tool_versions": self.tool_versions,
        }


class Stage(Protocol):
    """One stage of the pipeline. Implementations live in finsig_runner.stages.<name>."""

    name: str
    requires: tuple[str, ...]  # prerequisite stage names
    checks: tuple[str, ...]  # check ids it can report, e.g. ("tests.pass", "tests.coverage")
    always: bool  # run even after failures (validate)
    uses_project_env: bool  # needs the project virtual environment

    def inputs(self, ctx: StageContext) -> StageInputs: ...

    def run(self, ctx: StageContext) -> StageResult: ...
