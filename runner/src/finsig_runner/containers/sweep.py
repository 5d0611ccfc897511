"""Containers a stage left behind, and the run's leftovers before sealing (threat model).

When a stage ends, every container created since it started that carries the run's label for
that stage, or mounts the workspace without belonging to a stage still running, is removed: a
detached container started by the project's tests cannot outlive its stage to rewrite what the
run recorded. Inside the runner container the workspace is seen by the engine under its host
path, found from this container's own mounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from finsig_runner.containers.resources import RUN_LABEL, STAGE_LABEL
from finsig_runner.containers.run_network import own_container_ids


def _client() -> Any | None:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
        return client
    except Exception:  # no engine reachable: nothing can have been started there either
        return None


def workspace_sources(client: Any, workspace: Path) -> set[str]:
    """The workspace's path as the engine knows it: itself, and the host path mounted there."""
    sources = {str(workspace.resolve())}
    for cid in own_container_ids():
        try:
            mounts = client.containers.get(cid).attrs.get("Mounts") or []
        except Exception:  # not a container id after all: try the next candidate
            continue
        for mount in mounts:
            if Path(str(mount.get("Destination", ""))) == workspace.resolve():
                sources.add(str(mount.get("Source")))
    return sources


def _created(container: Any) -> datetime:
    text = str(container.attrs.get("Created", ""))[:26].rstrip("Z")
    return datetime.fromisoformat(text)


def _mounts_workspace(container: Any, sources: set[str]) -> bool:
    for mount in container.attrs.get("Mounts") or []:
        source = Path(str(mount.get("Source", "")))
        if any(source == Path(s) or source.is_relative_to(s) for s in sources):
            return True
    return False


def _belongs(container: Any, run_id: str, stages: Iterable[str]) -> bool:
    labels = container.labels or {}
    return labels.get(RUN_LABEL) == run_id and labels.get(STAGE_LABEL) in set(stages)


class WorkspaceSweeper:
    """Removes the containers a finished stage left (the engine calls it as each stage ends)."""

    def __init__(self, run_id: str, workspace: Path) -> None:
        self.run_id = run_id
        self.workspace = workspace
        self._client = _client()
        self._sources = workspace_sources(self._client, workspace) if self._client else set()

    def __call__(self, stage: str, started: datetime, running: frozenset[str]) -> list[str]:
        if self._client is None:
            return []
        removed: list[str] = []
        for container in self._client.containers.list(all=True):
            if _created(container) < started.replace(tzinfo=None):
                continue
            mine = _belongs(container, self.run_id, [stage])
            stray = _mounts_workspace(container, self._sources) and not _belongs(
                container, self.run_id, running)
            if mine or stray:
                container.remove(force=True, v=True)
                removed.append(container.name)
        return removed


def run_leftovers(run_id: str, workspace: Path, since: datetime) -> tuple[list[str], bool]:
    """Containers of the run (by label), or created since it started and mounting the workspace,
    that still exist (this process's own container aside); and whether an engine answered."""
    client = _client()
    if client is None:
        return [], False
    sources = workspace_sources(client, workspace)
    own = own_container_ids()
    found = [c.name for c in client.containers.list(all=True)
             if not any(c.id.startswith(i) for i in own)
             and ((c.labels or {}).get(RUN_LABEL) == run_id
                  or (_created(c) >= since.replace(tzinfo=None)
                      and _mounts_workspace(c, sources)))]
    return found, True
