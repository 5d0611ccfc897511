"""Helpers for the image, monitoring and staging stage tests.

A stage runs against a workspace under tmp_path (its reports/ and artifacts/) with a run id of
its own, so a test can query Docker by that run's label afterwards: nothing may remain.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.config_loader import load
from finsig_runner.core.context import StageContext
from tests.support.ci_files import ROOT

# The repository's [tool.finsig-runner.staging]: what staging proves about finsig.
FINSIG_STAGING = load(ROOT, {}).staging


def make_ctx(workspace: Path, stage: str, **config: Any) -> StageContext:
    """A context over `workspace` with finsig's staging settings (its smoke files copied in:
    they are relative to the workspace) unless `staging` is given."""
    (workspace / "reports").mkdir(parents=True, exist_ok=True)
    (workspace / "artifacts").mkdir(parents=True, exist_ok=True)
    if "staging" not in config:
        shutil.copytree(ROOT / "staging", workspace / "staging", dirs_exist_ok=True)
    cfg = replace(RunnerConfig(), **{"staging": FINSIG_STAGING, **config})
    return StageContext.create(workspace, cfg, stage, f"test-{uuid.uuid4().hex[:10]}")


def staging_copy(workspace: Path) -> Path:
    """The compose file and monitoring/ copied into `workspace`, to be changed by a test."""
    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "docker-compose.staging.yml", workspace / "docker-compose.staging.yml")
    shutil.copytree(ROOT / "monitoring", workspace / "monitoring")
    return workspace / "docker-compose.staging.yml"


def leftovers(run_id: str) -> dict[str, list[str]]:
    """Containers, networks, volumes and images still labelled with `run_id`."""
    import docker

    from finsig_runner.containers.resources import selector

    client = docker.from_env()
    try:
        flt = selector(run_id)
        return {
            # the low-level list: no inspect per container, so one removed meanwhile (the
            # stage tearing down while a test polls) is not a 404 from the helper itself
            "containers": sorted(str(c["Names"][0]).lstrip("/")
                                 for c in client.api.containers(all=True, filters=flt)),
            "networks": [n.name for n in client.networks.list(filters=flt)],
            "volumes": [v.name for v in client.volumes.list(filters=flt)],
            "images": [i.id for i in client.images.list(filters=flt)],
        }
    finally:
        client.close()


def sweep_run(run_id: str) -> None:
    """Last resort after a failing test: remove whatever the run left."""
    import docker

    from finsig_runner.containers.resources import remove_run

    client = docker.from_env()
    try:
        remove_run(client, run_id)
    finally:
        client.close()


@pytest.fixture
def swept() -> Iterator[list[str]]:
    """Append run ids to the yielded list; they are swept after the test whatever happened."""
    runs: list[str] = []
    yield runs
    for run_id in runs:
        sweep_run(run_id)
