"""The workspace's output directories: set aside the previous run's, fix ownership after a run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

STATE_DIR = ".finsig-runner"
OUTPUT_DIRS = ("reports", "artifacts")


def previous_root(workspace: Path) -> Path:
    return workspace / STATE_DIR / "previous"


def set_aside(workspace: Path, stamp: str, keep: int) -> Path | None:
    """Move reports/ and artifacts/ into .finsig-runner/previous/<stamp>/ (keep the newest `keep`).

    With keep == 0 the previous outputs are deleted. Returns where they went (None if nothing).
    """
    present = [workspace / name for name in OUTPUT_DIRS if (workspace / name).exists()]
    target: Path | None = None
    if present and keep > 0:
        target = previous_root(workspace) / stamp
        target.mkdir(parents=True, exist_ok=False)
        for path in present:
            shutil.move(str(path), str(target / path.name))
    else:
        for path in present:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    root = previous_root(workspace)
    if root.is_dir():
        runs = sorted(p for p in root.iterdir() if p.is_dir())
        for old in runs[: max(0, len(runs) - keep)]:
            shutil.rmtree(old, ignore_errors=True)
    return target


def fix_ownership(workspace: Path) -> None:
    """Running as root over someone else's workspace: give what the run wrote to its owner."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    owner = workspace.stat()
    if owner.st_uid == 0:
        return
    for name in (*OUTPUT_DIRS, STATE_DIR):
        top = workspace / name
        if not top.exists():
            continue
        os.chown(top, owner.st_uid, owner.st_gid, follow_symlinks=False)
        for root, dirs, files in os.walk(top):
            for entry in (*dirs, *files):
                path = os.path.join(root, entry)
                os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)
