"""The copy of a real project the faults are injected into: this repository, cloned the way
tests/runner_image/conftest.py clones it for the session's pipeline run (`git clone --no-hardlinks`
of HEAD), the fault committed on top, and the whole tree given to uid/gid 4242 so that the runner
image drops to an ordinary user as it does for anyone. Optionally the workspace is a small tmpfs
(the full-disk fault): mounting one needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from drills.machine import ROOT

OWNER = 4242
WORK = Path(os.environ.get("FINSIG_DRILLS_WORK") or Path(tempfile.gettempdir()) / "finsig-drills")
AUTHOR = ("-c", "user.name=finsig drills", "-c", "user.email=drills@localhost",
          "-c", "commit.gpgsign=false")


class InjectionError(Exception):
    """A fault could not be planted (the copy is not what the fault expects): a drill problem,
    not a finding about the product."""


def _run(argv: list[str], cwd: Path | None = None) -> str:
    # fixed argv: git, mount and umount on the drill's own directories
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,  # nosec B603
                          check=False, timeout=300)
    if done.returncode != 0:
        raise InjectionError(f"{' '.join(argv[:3])}...: exit {done.returncode}: "
                             f"{(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


@dataclass(frozen=True)
class Copy:
    """A workspace: the repository's clone at `root`."""

    root: Path

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        """Replace `old` (which must be there, once) by `new` in file `rel`."""
        text = self.read(rel)
        if text.count(old) != 1:
            raise InjectionError(f"{rel}: expected the text {old[:60]!r} once, found it "
                                 f"{text.count(old)} times")
        self.write(rel, text.replace(old, new))

    def append(self, rel: str, text: str) -> None:
        self.write(rel, self.read(rel) + text)

    def commit(self, message: str) -> None:
        """Commit whatever the fault changed (nothing changed: nothing committed)."""
        _run(["git", "add", "-A"], self.root)
        if _run(["git", "status", "--porcelain"], self.root).strip():
            _run(["git", *AUTHOR, "commit", "--quiet", "-m", message], self.root)

    def own(self) -> None:
        """Give the whole tree to OWNER (the runner image drops to the workspace's owner)."""
        for top, dirs, files in os.walk(self.root):
            os.lchown(top, OWNER, OWNER)
            for name in (*dirs, *files):
                os.lchown(os.path.join(top, name), OWNER, OWNER)


@contextmanager
def project_copy(item: str, tmpfs_size: str | None = None) -> Iterator[Copy]:
    """A fresh clone of HEAD for one drill item, removed (and unmounted) afterwards."""
    WORK.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=f"{item}-{uuid.uuid4().hex[:6]}-", dir=WORK))
    root = base / "finsig"
    root.mkdir()
    mounted = False
    try:
        if tmpfs_size is not None:
            if os.geteuid() != 0:
                raise InjectionError("a tmpfs workspace needs root (mount -t tmpfs)")
            _run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_size},mode=0755", "tmpfs",
                  str(root)])
            mounted = True
        _run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(root)])
        yield Copy(root)
    finally:
        if mounted:
            for lazy in ([], ["--lazy"]):  # busy (a container still on its way out): detach
                argv = ["umount", *lazy, str(root)]
                done = subprocess.run(argv, check=False, capture_output=True,  # nosec B603
                                      timeout=120)
                if done.returncode == 0:
                    break
        shutil.rmtree(base, ignore_errors=True)
