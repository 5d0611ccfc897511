"""Labels naming the run on everything the pipeline creates in Docker, and removal by those labels.

Every container, network, volume and image a stage creates carries RUN_LABEL (the run id) and
who owns it (host name, process id and that process's start time), so that

- a stage's teardown removes exactly its run's resources (remove_run), and
- `finsig-runner clean` removes whatever belongs to a run that is over (a runner killed outright
  never reaches its teardown): the owning process is gone, or the owning runner container is not
  running. A run whose owner cannot be judged from here is kept unless --force is given.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

RUN_LABEL = "org.finsig.run"
STAGE_LABEL = "org.finsig.run.stage"
HOST_LABEL = "org.finsig.run.host"
PID_LABEL = "org.finsig.run.pid"
PID_START_LABEL = "org.finsig.run.pid-start"


def _pid_start(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when unknown): PIDs are reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def run_labels(run_id: str, stage: str) -> dict[str, str]:
    """The labels every Docker object of this run and stage carries."""
    pid = os.getpid()
    return {
        RUN_LABEL: run_id,
        STAGE_LABEL: stage,
        HOST_LABEL: socket.gethostname(),
        PID_LABEL: str(pid),
        PID_START_LABEL: _pid_start(pid),
    }


def selector(run_id: str | None = None) -> dict[str, str]:
    """A docker SDK `filters` value: this run's objects, or every run's."""
    return {"label": f"{RUN_LABEL}={run_id}" if run_id else RUN_LABEL}


@dataclass(frozen=True)
class Removed:
    kind: str  # container | network | volume | image
    name: str
    run_id: str


@dataclass
class Removal:
    removed: list[Removed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def remove_run(client: Any, run_id: str, stage: str | None = None, images: bool = True,
               others: bool = True) -> Removal:
    """Remove the containers, networks, volumes (`others`) and images of `run_id` (one stage's)."""

    def wanted(labels: Mapping[str, str]) -> bool:
        return labels.get(RUN_LABEL) == run_id and stage in (None, labels.get(STAGE_LABEL))

    return _remove(client, wanted, images, others)


def _remove(client: Any, wanted: Callable[[Mapping[str, str]], bool], images: bool,
            others: bool = True) -> Removal:
    out = Removal()
    flt = selector()
    # every run's containers are listed: another run removing one of its own meanwhile is no error
    listed = client.containers.list(all=True, filters=flt, ignore_removed=True) if others else []
    containers = [c for c in listed if wanted(c.labels or {})]
    with ThreadPoolExecutor(max_workers=8) as pool:  # in parallel: each removal waits on a kill
        for container in containers:
            pool.submit(_try, out, "container", container.name, container.labels or {},
                        partial(container.remove, force=True, v=True))
    for network in client.networks.list(filters=flt) if others else []:
        labels = network.attrs.get("Labels") or {}
        if wanted(labels):
            _try(out, "network", network.name, labels, network.remove)
    for volume in client.volumes.list(filters=flt) if others else []:
        labels = volume.attrs.get("Labels") or {}
        if wanted(labels):
            _try(out, "volume", volume.name, labels, partial(volume.remove, force=True))
    if images:
        for image in client.images.list(filters=flt):
            labels = image.labels or {}
            if wanted(labels):
                name = ",".join(image.tags) or image.id
                _try(out, "image", name, labels,
                     partial(client.images.remove, image.id, force=True, noprune=False))
    return out


def _try(out: Removal, kind: str, name: str, labels: Mapping[str, str],
         action: Callable[[], Any]) -> None:
    import docker.errors

    try:
        action()
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        out.errors.append(f"{kind} {name}: {exc.explanation or exc}")
        return
    out.removed.append(Removed(kind, name, labels.get(RUN_LABEL, "")))


# --- whether a run is over -----------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerCheck:
    """Whether the run that labelled an object is over (so its objects may go), and why."""

    over: bool
    why: str


def judge(
    labels: Mapping[str, str],
    client: Any,
    hostname: str | None = None,
    pid_start: Callable[[int], str] = _pid_start,
) -> OwnerCheck:
    """Is the run that created an object with these labels over?"""
    import docker.errors

    host = labels.get(HOST_LABEL, "")
    pid_text = labels.get(PID_LABEL, "")
    if not host or not pid_text.isdigit():
        return OwnerCheck(False, "no owner labels: cannot tell (use --force)")
    try:  # a runner inside a container: its hostname is its container's short id
        owner = client.containers.get(host)
    except docker.errors.NotFound:
        owner = None
    except docker.errors.APIError:
        owner = None
    if owner is not None and (owner.attrs.get("Config") or {}).get("Hostname") == host:
        running = (owner.attrs.get("State") or {}).get("Running", False)
        state = "running" if running else "stopped"
        return OwnerCheck(not running, f"runner container {host} {state}")
    if host == (hostname or socket.gethostname()):
        started = pid_start(int(pid_text))
        if not started:
            return OwnerCheck(True, f"process {pid_text} is gone")
        if started != labels.get(PID_START_LABEL, ""):
            return OwnerCheck(True, f"process {pid_text} is gone (its id was reused)")
        return OwnerCheck(False, f"process {pid_text} is still running")
    return OwnerCheck(False,
                      f"owner {host} is neither this host nor a container here (use --force)")


@dataclass(frozen=True)
class RunState:
    run_id: str
    owner: OwnerCheck


def runs(client: Any) -> dict[str, RunState]:
    """Every run with a labelled object here, and whether it is over."""
    found: dict[str, Mapping[str, str]] = {}
    flt = selector()
    for container in client.containers.list(all=True, filters=flt):
        found.setdefault(container.labels.get(RUN_LABEL, ""), container.labels)
    for network in client.networks.list(filters=flt):
        labels = network.attrs.get("Labels") or {}
        found.setdefault(labels.get(RUN_LABEL, ""), labels)
    for volume in client.volumes.list(filters=flt):
        labels = volume.attrs.get("Labels") or {}
        found.setdefault(labels.get(RUN_LABEL, ""), labels)
    for image in client.images.list(filters=flt):
        found.setdefault((image.labels or {}).get(RUN_LABEL, ""), image.labels or {})
    return {run: RunState(run, judge(labels, client)) for run, labels in found.items() if run}


def clean(client: Any, force: bool = False, run_id: str | None = None) -> tuple[
        Removal, dict[str, RunState]]:
    """Remove the objects of every run that is over (all runs with force; one with run_id)."""
    states = runs(client)
    if run_id is not None:
        states = {k: v for k, v in states.items() if k == run_id}
    targets = {k for k, v in states.items() if force or v.owner.over}
    removal = _remove(client, lambda labels: labels.get(RUN_LABEL) in targets, images=True)
    return removal, states
