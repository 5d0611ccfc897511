"""The types every room shares: statuses, the one stage result, the Stage protocol.

A stage is a small module behind one Protocol. It declares what it needs (prerequisite stages,
input files, config keys, tools) and returns a StageResult; nothing else decides its status. The
same frozen StageResult travels the whole way: the stage returns it, the engine records it
(reports/stages/<stage>.json is its `to_json`), the evidence reader gives it back (`from_json`,
with its Origin), and the validation document is built from it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from finsig_runner.core.hashing import sha256_file

if TYPE_CHECKING:
    from finsig_runner.core.context import StageContext


class Status(str, enum.Enum):
    """What one stage (or one check) came to."""

    PASSED = "PASSED"
    FAILED = "FAILED"  # the tool ran and reported findings
    ERROR = "ERROR"  # the tool itself broke, or an input is missing
    SKIPPED = "SKIPPED"  # nothing to do here (reason says why)
    ABORTED = "ABORTED"  # a prerequisite FAILED or hit an ERROR
    CACHED = "CACHED"  # inputs unchanged: earlier evidence reused by reference

    @property
    def ok(self) -> bool:
        return self in (Status.PASSED, Status.CACHED)

    @property
    def bad(self) -> bool:
        """A status that stops the stages after it (ABORTED) and fails the run."""
        return self in (Status.FAILED, Status.ERROR, Status.ABORTED)


class RunStatus(str, enum.Enum):
    """What a whole run (or a merge of runs) came to."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    INTERRUPTED = "INTERRUPTED"
    PARTIAL = "PARTIAL"  # not every stage ran here: no verdict (merge the jobs)


@dataclass(frozen=True)
class FileDigest:
    """A file the run wrote, relative to the workspace."""

    path: str
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path, workspace: Path) -> FileDigest:
        return cls(str(path.relative_to(workspace)), path.stat().st_size, sha256_file(path))

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileDigest:
        return cls(str(data["path"]), int(data["size"]), str(data["sha256"]))


@dataclass(frozen=True)
class Check:
    """One verdict inside a stage, with a stable id `<stage>.<check>`."""

    id: str
    status: Status
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status.value, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Check:
        return cls(str(data["id"]), Status(data["status"]), str(data.get("detail", "")))


@dataclass(frozen=True)
class StageInputs:
    """What a stage's result depends on; hashed into its cache key."""

    files: tuple[Path, ...] = ()
    config: tuple[tuple[str, str], ...] = ()
    tools: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Origin:
    """Which run produced a result, and whether this run took it over from there (`--from`)."""

    run_id: str
    imported: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "imported": self.imported}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Origin:
        return cls(str(data["run_id"]), bool(data.get("imported", False)))


def _moment(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


@dataclass(frozen=True)
class StageResult:
    """The one result shape. Frozen: change it with dataclasses.replace."""

    stage: str
    status: Status
    reason: str = ""
    checks: tuple[Check, ...] = ()
    outputs: tuple[FileDigest, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)
    tool_versions: Mapping[str, str] = field(default_factory=dict)
    started: datetime | None = None
    ended: datetime | None = None
    origin: Origin | None = None  # set by the engine when it records the result

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
            "summary": dict(self.summary),
            "tool_versions": dict(self.tool_versions),
            "origin": self.origin.to_json() if self.origin else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StageResult:
        """The inverse of to_json. Raises KeyError/ValueError/TypeError on a malformed result."""
        origin = data.get("origin")
        return cls(
            stage=str(data["stage"]),
            status=Status(data["status"]),
            reason=str(data.get("reason", "")),
            checks=tuple(Check.from_json(c) for c in data.get("checks", [])),
            outputs=tuple(FileDigest.from_json(o) for o in data.get("outputs", [])),
            summary=dict(data.get("summary") or {}),
            tool_versions={str(k): str(v)
                           for k, v in dict(data.get("tool_versions") or {}).items()},
            started=_moment(data.get("started")),
            ended=_moment(data.get("ended")),
            origin=Origin.from_json(origin) if isinstance(origin, Mapping) else None,
        )


@dataclass(frozen=True)
class ReportFragment:
    """A stage's part of a combined report (the seed's lint-report.txt holds flake8's and mypy's).

    The engine's recorder writes `target` once every stage that declares a part of it has ended,
    the parts in stage order, each under a `===== title (source) =====` heading.
    """

    target: str  # relative to the workspace, e.g. reports/lint-report.txt
    title: str
    source: str  # the stage's own report, relative to the workspace


class Stage(Protocol):
    """One stage of the pipeline. Implementations live in finsig_runner.stages (one module each).

    After the run's last event-log line the engine calls `seal(ctx)` on every stage that ran and
    was not ABORTED; a stage with nothing to add after the run does nothing there.
    """

    name: str
    requires: tuple[str, ...]  # prerequisite stage names
    checks: tuple[str, ...]  # check ids it can report, e.g. ("tests.pass", "tests.coverage")
    always: bool  # run even after failures (validate)
    uses_project_env: bool  # needs the project virtual environment
    fragments: tuple[ReportFragment, ...]  # its parts of combined reports
    runs_project_code: bool  # the project's own code runs in it (tests, plugins, backend, script)

    def inputs(self, ctx: StageContext) -> StageInputs: ...

    def run(self, ctx: StageContext) -> StageResult: ...

    def seal(self, ctx: StageContext) -> None: ...
