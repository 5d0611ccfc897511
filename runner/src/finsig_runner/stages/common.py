"""Small helpers the stages share: paths, the runner's own tools, timestamps, JSON output."""

from __future__ import annotations

import json
import sys
from importlib import metadata
from datetime import UTC, datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from finsig_runner.core.context import StageContext
from finsig_runner.core.model import FileDigest, StageResult, Status
from finsig_runner.core.source import GitRun

# Files whose content changes how the code tools behave.
TOOL_CONFIG_FILES = ("pyproject.toml", "setup.cfg", "tox.ini", ".flake8", "mypy.ini", ".coveragerc")


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


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


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


def finish(result: StageResult, started: datetime) -> StageResult:
    result.started = started
    result.ended = now()
    return result


def skipped(stage: str, reason: str, started: datetime) -> StageResult:
    return finish(StageResult(stage, Status.SKIPPED, reason), started)


def no_sources(ctx: StageContext) -> str:
    return f"no sources: none of {', '.join(ctx.config.sources)} exist"


def error(stage: str, reason: str, started: datetime) -> StageResult:
    return finish(StageResult(stage, Status.ERROR, reason), started)


def listing(items: list[str], limit: int = 5) -> str:
    """`a, b, c (+4 more)` for reasons that must stay one readable line."""
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
