"""The run's hold on its processes (docs/threat-model.md).

Every tool starts with `FINSIG_RUNNER_RUN=<run id>` and `FINSIG_RUNNER_STAGE=<run id>/<stage>`
in its environment (core.context). The runner makes itself non-dumpable (no same-uid ptrace or
/proc/<pid>/mem reads of what it holds in memory) and the child subreaper (orphaned descendants —
double-forked daemons — become its children, not init's), and when a stage ends it kills what
that stage left behind. The sealer uses run_processes() to refuse a run that is still alive.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

RUN_VAR = "FINSIG_RUNNER_RUN"
STAGE_VAR = "FINSIG_RUNNER_STAGE"
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PROC = Path("/proc")


def _prctl(option: int, value: int) -> bool:
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    return int(libc.prctl(option, value, 0, 0, 0)) == 0


def protect_runner() -> tuple[bool, bool]:
    """Non-dumpable and child subreaper; (dumpable off, subreaper on) as the kernel answered."""
    return _prctl(PR_SET_DUMPABLE, 0), _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _ppid(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _pids() -> Iterator[int]:
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            yield int(entry.name)


def run_processes(run_id: str) -> list[int]:
    """Live processes (zombies aside) whose environment names the run."""
    return [pid for pid in _pids()
            if _environ(pid).get(RUN_VAR) == run_id and not _zombie(pid)]


def _zombie(pid: int) -> bool:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def leftovers(run_id: str, stage: str, keep: Iterable[int], running: Iterable[str]) -> list[int]:
    """Processes a finished stage left: those naming it, and orphans adopted by this runner that
    name no stage still running (a process that scrubbed its marker is not spared)."""
    me, kept, alive = os.getpid(), set(keep), {f"{run_id}/{s}" for s in running}
    found: list[int] = []
    for pid in _pids():
        if pid in kept or _zombie(pid):
            continue
        marker = _environ(pid).get(STAGE_VAR)
        if marker == f"{run_id}/{stage}":
            found.append(pid)
        elif _ppid(pid) == me and marker not in alive:
            found.append(pid)
    return found


def kill(pids: Iterable[int]) -> list[int]:
    """SIGKILL each (and reap it when it is this runner's child); the pids that were killed."""
    killed: list[int] = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        killed.append(pid)
    for pid in killed:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # not ours: its own parent (or init) reaps it
            pass
    return killed
