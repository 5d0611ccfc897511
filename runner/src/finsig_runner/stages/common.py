"""What the stages share: the Stage protocol's defaults, the result draft, paths, the runner's own
tools, timestamps."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib import metadata
from datetime import UTC, datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from finsig_runner.core.context import StageContext
from finsig_runner.core.model import (
    Check,
    FileDigest,
    ReportFragment,
    StageInputs,
    StageResult,
    Status,
)
from finsig_runner.core.source import GitRun

# Files whose content changes how the code tools behave.
TOOL_CONFIG_FILES = ("pyproject.toml", "setup.cfg", "tox.ini", ".flake8", "mypy.ini", ".coveragerc")
# For a tool that must never reach the network: any attempt goes to a closed local port.
NO_NETWORK = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


class StageBase:
    """The defaults of the Stage protocol that most stages keep."""

    requires: tuple[str, ...] = ()
    always: bool = False
    uses_project_env: bool = False
    fragments: tuple[ReportFragment, ...] = ()
    runs_project_code: bool = False

    def inputs(self, ctx: StageContext) -> StageInputs:
        return StageInputs()

    def seal(self, ctx: StageContext) -> None:
        """Nothing to add after the run's end."""


@dataclass
class Draft:
    """A stage's result while the stage builds it; finish() freezes it into a StageResult."""

    stage: str
    status: Status = Status.PASSED
    reason: str = ""
    checks: list[Check] = field(default_factory=list)
    outputs: list[FileDigest] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    tool_versions: dict[str, str] = field(default_factory=dict)


def now() -> datetime:
    return datetime.now(UTC)


def resolve(ctx: StageContext, value: str) -> Path:
    """A config path: absolute as given, else relative to the workspace."""
    path = Path(value)
    return path if path.is_absolute() else ctx.workspace / path


def runner_tool(module: str) -> list[str]:
    """argv prefix for a tool installed beside the runner itself (flake8, bandit, safety, build)."""
    return [sys.executable, "-m", module]


def tool_git(ctx: StageContext) -> GitRun:
    """git for finsig_runner.core.source, run as one of the stage's tools (logged, own process
    group): the workspace and its git configuration belong to the code under test."""

    def run(argv: Sequence[str]) -> str | None:
        done = ctx.run_tool(argv, timeout=60)
        return done.output if done.returncode == 0 else None

    return run


def existing_sources(ctx: StageContext) -> list[str]:
    """The configured source directories that exist, relative to the workspace."""
    return [s for s in ctx.config.sources if resolve(ctx, s).exists()]


def python_files(ctx: StageContext, dirs: tuple[str, ...] | list[str]) -> tuple[Path, ...]:
    files: list[Path] = []
    for name in dirs:
        root = resolve(ctx, name)
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    return tuple(sorted(files))


def config_files(ctx: StageContext) -> tuple[Path, ...]:
    return tuple(ctx.workspace / n for n in TOOL_CONFIG_FILES if (ctx.workspace / n).is_file())


def existing(ctx: StageContext, names: tuple[str, ...]) -> tuple[Path, ...]:
    """The configured files (e.g. locks) that exist."""
    return tuple(p for p in (resolve(ctx, n) for n in names) if p.is_file())


def runner_versions(*names: str) -> tuple[tuple[str, str], ...]:
    """Versions of the runner's own tools, for a stage's cache key (no process started)."""
    pairs: list[tuple[str, str]] = []
    for name in names:
        try:
            pairs.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            pairs.append((name, "absent"))
    return tuple(pairs)


def digests(ctx: StageContext, paths: list[Path]) -> list[FileDigest]:
    """FileDigest of every existing file; a directory contributes each file inside it."""
    out: list[FileDigest] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file())
            out.extend(FileDigest.of(p, ctx.workspace) for p in inside)
        elif path.is_file():
            out.append(FileDigest.of(path, ctx.workspace))
    return out


def first_line_version(output: str) -> str:
    """`tool 1.2.3 ...` -> `1.2.3` (the first token that starts with a digit)."""
    for token in output.replace("(", " ").split():
        if token[:1].isdigit():
            return token.rstrip(",")
    return output.strip().splitlines()[0] if output.strip() else "unknown"


def finish(draft: Draft, started: datetime) -> StageResult:
    return StageResult(draft.stage, draft.status, draft.reason, tuple(draft.checks),
                       tuple(draft.outputs), dict(draft.summary), dict(draft.tool_versions),
                       started=started, ended=now())


def failed(draft: Draft, reason: str, started: datetime) -> StageResult:
    draft.status, draft.reason = Status.FAILED, reason
    return finish(draft, started)


def skipped(stage: str, reason: str, started: datetime) -> StageResult:
    return finish(Draft(stage, Status.SKIPPED, reason), started)


def no_sources(ctx: StageContext) -> str:
    return f"no sources: none of {', '.join(ctx.config.sources)} exist"


def error(stage: str, reason: str, started: datetime) -> StageResult:
    return finish(Draft(stage, Status.ERROR, reason), started)


def listing(items: list[str], limit: int = 5) -> str:
    """`a, b, c (+4 more)` for reasons that must stay one readable line."""
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
