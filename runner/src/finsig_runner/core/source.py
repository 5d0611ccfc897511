"""What the sources say about a build: the project's version, SOURCE_DATE_EPOCH and the revision.

The one Python owner of these facts; scripts/lib/source.sh is the one shell owner, and
tests/runner/core/test_source.py holds the two to the same answers.

- `project_version(root)`: `[project] version` of root/pyproject.toml (tomllib).
- `source_epoch(root, paths)`: the committer time of the last commit touching `paths` (HEAD's when
  `paths` is empty). When git gives none (no git, not a repository, no commit yet, or no commit
  touches `paths`) the fallback is $SOURCE_DATE_EPOCH when it holds an integer, else 315532800
  (1980-01-01T00:00:00Z, the earliest time a zip entry can hold, so wheels still build).
- `source_revision(root, paths)`: the full hash of that commit ("unknown" without one), with
  "-dirty" appended when `paths` (the whole tree when empty) have uncommitted or untracked changes.

Git runs through a `GitRun` so that a stage can route it through its own tool runner (the
workspace, and so its git configuration, belongs to the code under test).
"""

from __future__ import annotations

import os
import re
import subprocess  # nosec B404 - git, with an argv list
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from finsig_runner.core.errors import ConfigError

FALLBACK_EPOCH = 315532800  # 1980-01-01T00:00:00Z
FROM_GIT = "git: last commit"
FROM_ENVIRONMENT = "environment: SOURCE_DATE_EPOCH"
FROM_FALLBACK = "fallback: 1980-01-01 (no git history)"
UNKNOWN_REVISION = "unknown"
_SECONDS = re.compile(r"[0-9]+")
_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256 object names

# A full git argv in, its standard output out; None when git failed or is missing.
GitRun = Callable[[Sequence[str]], "str | None"]


@dataclass(frozen=True)
class SourceEpoch:
    seconds: int
    origin: str  # FROM_GIT, FROM_ENVIRONMENT or FROM_FALLBACK

    @property
    def rfc3339(self) -> str:
        return rfc3339(self.seconds)


def project_version(root: Path) -> str:
    """The static `[project] version` of root/pyproject.toml; ConfigError (exit 2) without one."""
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the project version from {path}: {exc}") from exc
    version = data.get("project", {}).get("version")
    if not isinstance(version, str) or not version:
        raise ConfigError(f"{path} has no static [project] version (set `version = \"...\"`)")
    return version


def source_epoch(root: Path, paths: Sequence[str] = (), git: GitRun | None = None) -> SourceEpoch:
    """SOURCE_DATE_EPOCH for what `paths` hold, and where it came from (see the module doc)."""
    out = (git or run_git)(_git(root, "log", "-1", "--format=%ct", "--", *paths))
    text = (out or "").strip()
    if _SECONDS.fullmatch(text):
        return SourceEpoch(int(text), FROM_GIT)
    inherited = os.environ.get("SOURCE_DATE_EPOCH", "")
    if _SECONDS.fullmatch(inherited):
        return SourceEpoch(int(inherited), FROM_ENVIRONMENT)
    return SourceEpoch(FALLBACK_EPOCH, FROM_FALLBACK)


def source_date_epoch(root: Path, paths: Sequence[str] = (), git: GitRun | None = None) -> int:
    """The seconds of `source_epoch`: what a build exports as SOURCE_DATE_EPOCH."""
    return source_epoch(root, paths, git).seconds


def source_revision(root: Path, paths: Sequence[str] = (), git: GitRun | None = None) -> str:
    """`<commit>[-dirty]`: the last commit touching `paths`, dirty when they have changes."""
    run = git or run_git
    out = (run(_git(root, "log", "-1", "--format=%H", "--", *paths)) or "").strip()
    revision = out if _COMMIT.fullmatch(out) else UNKNOWN_REVISION
    status = run(_git(root, "status", "--porcelain", "--", *paths))
    if status and status.strip():
        revision += "-dirty"
    return revision


def rfc3339(epoch: int) -> str:
    """Seconds since the epoch as RFC 3339 UTC, e.g. 2026-11-26T04:05:40Z."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_git(argv: Sequence[str]) -> str | None:
    """The default GitRun: git's stdout, or None when it fails or is not installed."""
    try:
        done = subprocess.run(  # nosec B603 - argv list, no shell
            list(argv), capture_output=True, text=True, timeout=60, check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _git(root: Path, *args: str) -> list[str]:
    # safe.directory: inside the runner the workspace belongs to another uid.
    top = str(root.resolve())
    return ["git", "-c", f"safe.directory={top}", "-C", top, *args]
