"""The isolated site end to end: a bundle holding the runner image, exported with a throwaway key,
verified and imported into the second engine (which has none of its images), then the runner
image runs there — DOCKER_HOST and the mounted socket are the second engine's — over the small
fixture project of tests/runner_image, a whole run, as docs/runner-image.md says to start it.

The runner image alone is enough: `docker save` of one image carries all of its layers, the base's
included, and the run needs no other image (the fixture has no app image, monitoring or staging).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess  # nosec B404 - the test drives the docker CLI
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from finsig_runner import __version__
from finsig_runner.core import signing
from finsig_runner.bundle import ExportResult, export_bundle, import_bundle
from finsig_runner.bundle.images import client_from_env
from finsig_runner.containers.run_network import default_routes
from tests.support.runner_image_project import make_project

pytestmark = pytest.mark.docker

RUNNER_IMAGE = f"finsig-runner:{__version__}"
OWNER = 4242  # the workspace's owner: the entrypoint drops to it, as in tests/runner_image
SOCKET = "/var/run/docker.sock"
RUN_LINE = re.compile(r"^run (\d{8}T\d{6}Z-[0-9a-f]{8}): PASSED\b", re.MULTILINE)
NETWORK_LINE = re.compile(r"^network: (finsig-run-\S+) \(internal, container [0-9a-f]{12}, "
                          r"entrypoint; left bridge\)$", re.MULTILINE)
EVIDENCE = (
    "artifacts/artifact-validation.json",
    "artifacts/ci_cd_events.log",
    "artifacts/event-log-seal.json",
    "artifacts/provenance.intoto.json",
    "artifacts/tinyproj-1.0.0-py3-none-any.whl",
    "reports/stages/lint.json",
    "reports/stages/tests.json",
    "reports/stages/security.json",
    "reports/test-results.xml",
)


@dataclass(frozen=True)
class RunnerBundle:
    export: ExportResult
    key: Any  # Ed25519PrivateKey
    image_id: str


@pytest.fixture(scope="module")
def runner_bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunnerBundle]:
    """One export of the runner image for the module, with a key pair made for it alone."""
    client = client_from_env()
    root = tmp_path_factory.mktemp("runner-bundle")
    try:
        try:
            image_id = str(client.images.get(RUNNER_IMAGE).id)
        except Exception:  # noqa: BLE001 (docker.errors.ImageNotFound or the engine failing)
            pytest.fail(f"{RUNNER_IMAGE} is missing: build it first (make images)")
        key = signing.load_private_key(signing.write_keypair(root / "keys").private)
        made = export_bundle(root / "finsig-bundle.tar", key, client, refs=[RUNNER_IMAGE])
        yield RunnerBundle(made, key, image_id)
    finally:
        client.close()
        shutil.rmtree(root, ignore_errors=True)


def _workspace(root: Path) -> Path:
    """The fixture project, owned by OWNER (the suite runs as root: the second engine needs it)."""
    workspace = make_project(root)
    for path in [workspace, *workspace.rglob("*")]:
        os.chown(path, OWNER, OWNER)
    return workspace


def _run_names(client: Any) -> list[str]:
    """Containers (any state) and finsig-run-* networks in the engine."""
    names = [f"container {c.name}" for c in client.containers.list(all=True)]
    names += [f"network {n.name}" for n in client.networks.list()
              if n.name.startswith("finsig-run-")]
    return names


@pytest.mark.timeout(600)
def test_runner_image_runs_at_the_isolated_site(
    runner_bundle: RunnerBundle, second_engine: Any, tmp_path: Path
) -> None:
    client = second_engine.client()
    # The site is isolated: the engine's network namespace has no default route (no way out).
    assert default_routes(Path(f"/proc/{second_engine.process.pid}/net/route")) == []
    # ... and has none of the bundle's images.
    manifest_ids = [image.id for image in runner_bundle.export.images]
    assert manifest_ids == [runner_bundle.image_id]
    present = {str(i.id) for i in client.images.list(all=True)}
    tags = {t for i in client.images.list() for t in i.tags}
    assert RUNNER_IMAGE not in tags and runner_bundle.image_id not in present

    started = time.monotonic()
    imported = import_bundle(runner_bundle.export.bundle, runner_bundle.key.public_key(), client)
    import_seconds = time.monotonic() - started
    assert [image.id for image in imported.verified.manifest.images] == manifest_ids
    assert client.images.get(RUNNER_IMAGE).id == runner_bundle.image_id

    workspace = _workspace(tmp_path / "tinyproj")
    argv = ["docker", "run", "--rm", "--volume", f"{workspace}:/workspace",
            "--volume", f"{second_engine.socket}:{SOCKET}", RUNNER_IMAGE]
    env = {**os.environ, "DOCKER_HOST": second_engine.host}
    try:
        started = time.monotonic()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=540)
        run_seconds = time.monotonic() - started
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-4000:]
        assert RUN_LINE.search(output), output[-4000:]
        assert NETWORK_LINE.search(output), output[-4000:]

        missing = [name for name in EVIDENCE if not (workspace / name).is_file()]
        assert not missing, f"evidence not written: {missing}"
        validation = json.loads(
            (workspace / "artifacts" / "artifact-validation.json").read_text(encoding="utf-8"))
        assert validation["status"] == "PASSED"
        wrong_owner = [str(p.relative_to(workspace)) for p in workspace.rglob("*")
                       if p.lstat().st_uid != OWNER]
        assert not wrong_owner, f"not owned by the workspace's owner: {wrong_owner[:5]}"
        # The fixture's test copied /proc/net/route during the run: only the run network's subnet.
        table = (workspace / "reports" / "route-table.txt").read_text(encoding="ascii")
        assert default_routes(workspace / "reports" / "route-table.txt") == [], table
        # The runner removed what it started: its network, its helper, its own --rm container.
        assert _run_names(client) == []
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        # Leave the session's engine as the other tests expect it: without the runner image.
        client.images.remove(RUNNER_IMAGE, force=True)
    print(f"\nrunner bundle: {runner_bundle.export.size} bytes, export "
          f"{runner_bundle.export.seconds:.1f}s, verify+import {import_seconds:.1f}s, "
          f"run at the site {run_seconds:.1f}s")
