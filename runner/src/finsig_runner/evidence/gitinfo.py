"""The commit the run worked on and whether the tree differed from it (run outputs aside)."""

from __future__ import annotations

import subprocess  # nosec B404 - fixed git argv, no shell
from dataclasses import dataclass
from pathlib import Path

# What a run writes itself: not a change to the sources.
_OUTPUTS = (":(exclude)reports", ":(exclude)artifacts", ":(exclude).finsig-runner")


@dataclass(frozen=True)
class Source:
    commit: str | None
    dirty: bool | None

    def to_json(self) -> dict[str, object]:
        return {"commit": self.commit, "dirty": self.dirty}


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(  # nosec B603 B607 - git from PATH, fixed arguments
            ["git", "-C", str(root), *args],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def source(root: Path) -> Source:
    """Source(None, None) when the workspace is not a git work tree (or git is absent)."""
    commit = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    if not commit:
        return Source(None, None)
    status = _git(root, "status", "--porcelain", "--", ".", *_OUTPUTS)
    return Source(commit.strip(), None if status is None else bool(status.strip()))
