"""Runs of the runner image (docker run exactly as docs/runner-image.md says), shared per session.

Each workspace is owned by uid/gid 4242 (set and later removed through a container, so the host
user needs no privileges), so that the privilege drop and the ownership of what the run writes
are tested on every run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess  # nosec B404 - the tests drive the docker CLI
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from finsig_runner.core import signing

from tests.support.runner_image_project import ROOT, make_project
from tests.support.containers import LABELS

OWNER = 4242
SOCKET = "/var/run/docker.sock"
_VERSION = re.search(r'^version = "(.*)"', (ROOT / "runner" / "pyproject.toml").read_text(),
                     re.MULTILINE)
IMAGE = f"finsig-runner:{_VERSION.group(1) if _VERSION else '0.1.0'}"
RUN_ID = re.compile(r" run (\d{8}T\d{6}Z-[0-9a-f]{8})")


@dataclass(frozen=True)
class ImageRun:
    workspace: Path
    exit_code: int
    output: str
    duration: float

    @property
    def run_id(self) -> str:
        match = RUN_ID.search(self.output)
        return match.group(1) if match else ""

    def validation(self) -> dict[str, object]:
        path = self.workspace / "artifacts" / "artifact-validation.json"
        data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        return data


def require_image() -> None:
    found = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
    if found.returncode != 0:
        pytest.fail(f"{IMAGE} does not exist: run 'make images'")


def docker_run_argv(workspace: Path, *args: str, name: str = "") -> list[str]:
    """`docker run --rm -v WS:/workspace -v SOCKET:SOCKET IMAGE ARGS` (+ the test session label)."""
    argv = ["docker", "run", "--rm", "--volume", f"{workspace}:/workspace",
            "--volume", f"{SOCKET}:{SOCKET}"]
    for key, value in LABELS.items():
        argv += ["--label", f"{key}={value}"]
    if name:
        argv += ["--name", name]
    return [*argv, IMAGE, *args]


def run_image(workspace: Path, *args: str, timeout: float) -> ImageRun:
    started = time.monotonic()
    done = subprocess.run(docker_run_argv(workspace, *args), capture_output=True, text=True,
                          timeout=timeout)
    output = done.stdout + done.stderr
    return ImageRun(workspace, done.returncode, output, time.monotonic() - started)


def _as_root(workspace: Path, *command: str) -> None:
    """Run a command over `workspace` (mounted at /w) as root in the runner image."""
    argv = ["docker", "run", "--rm", "--network", "none", "--entrypoint", command[0]]
    for key, value in LABELS.items():
        argv += ["--label", f"{key}={value}"]
    subprocess.run([*argv, "--volume", f"{workspace}:/w", IMAGE, *command[1:]], check=True,
                   capture_output=True, timeout=120)


def own(workspace: Path) -> Path:
    _as_root(workspace, "chown", "-R", f"{OWNER}:{OWNER}", "/w")
    return workspace


def remove(workspace: Path) -> None:
    if workspace.exists():
        _as_root(workspace, "find", "/w", "-mindepth", "1", "-delete")
        shutil.rmtree(workspace, ignore_errors=True)


def leftovers(run_id: str) -> list[str]:
    """Containers, networks and volumes still labelled with this run (plus its network by name)."""
    import docker

    from finsig_runner.containers.resources import selector

    client = docker.from_env()
    try:
        found = [f"container {c.name}" for c in client.containers.list(
            all=True, filters=selector(run_id))]
        found += [f"network {n.name}" for n in client.networks.list(filters=selector(run_id))]
        found += [f"network {n.name}" for n in client.networks.list(
            names=[f"finsig-run-{run_id.lower()}"])]
        found += [f"volume {v.name}" for v in client.volumes.list(filters=selector(run_id))]
        return found
    finally:
        client.close()


def new_fixture(tmp_path_factory: pytest.TempPathFactory, name: str, **kinds: bool) -> Path:
    root = tmp_path_factory.mktemp(name)
    return own(make_project(root, **kinds))


@pytest.fixture(scope="session")
def run_keys(tmp_path_factory: pytest.TempPathFactory) -> signing.KeyPairFiles:
    """The key pair that seals the fixture run: the run is told only its fingerprint."""
    keys = signing.write_keypair(tmp_path_factory.mktemp("sealing-keys"))
    os.chown(keys.private, OWNER, OWNER)  # the sealer runs as the workspace's owner
    return keys


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory,
                run_keys: signing.KeyPairFiles) -> Iterator[ImageRun]:
    """The image over the small fixture project (its tests pass), once per session."""
    require_image()
    workspace = new_fixture(tmp_path_factory, "tinyproj")
    try:
        yield run_image(workspace, "--set", f"expected_signer={run_keys.fingerprint}",
                        timeout=900)
    finally:
        remove(workspace)


@pytest.fixture(scope="session")
def clone_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageRun]:
    """The image over a clean clone of this repository (HEAD): the whole pipeline, once."""
    require_image()
    workspace = tmp_path_factory.mktemp("clone") / "finsig"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(workspace)],
                   check=True, timeout=300)
    own(workspace)
    try:
        yield run_image(workspace, timeout=2400)
    finally:
        remove(workspace)
