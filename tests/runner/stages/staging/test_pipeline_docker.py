"""image -> staging against the real images: ONE run per module, inspected by every test here.

The wheel is built from the repository, the `image` stage builds, saves and hashes the app image,
the `staging` stage loads that tar and proves the stack. Measured on 2 cores: ≈ 90 s for the two
image builds, ≈ 60 s for staging with the fault drill.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from finsig_runner.core.context import StageContext
from finsig_runner.core.model import Stage, StageResult, Status
from finsig_runner.engine.plan import build_plan
from finsig_runner.engine.run import Engine
from finsig_runner.stages.image.stage import ImageStage, run_tag
from finsig_runner.stages.common import Draft, StageBase, digests, finish, now
from finsig_runner.stages.staging.stage import StagingStage
from tests.runner.stages.staging.conftest import ROOT, leftovers, make_ctx, sweep_run

pytestmark = [pytest.mark.docker]

# what the staging stage declares for finsig's configuration, in the order it reports them
FINSIG_CHECKS = (
    "staging.up", "staging.ready.app", "staging.targets", "staging.rules",
    "staging.smoke.ingest", "staging.smoke.signals", "staging.scrape",
    "staging.alert.AppDown", "staging.resolved.AppDown",
    "staging.alert.PostgresDown", "staging.recovered.PostgresDown", "staging.teardown",
)


@dataclass(frozen=True)
class Pipeline:
    workspace: Path
    run_id: str
    image: StageResult
    staging: StageResult


class _Wheel(StageBase):
    """`build` as far as `image` cares: the repository's wheel, recorded as its output."""

    name = "build"
    checks = ()

    def __init__(self, built: Path) -> None:
        self.built = built

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        outputs = []
        for wheel in self.built.glob("*.whl"):
            shutil.copy2(wheel, ctx.artifacts / wheel.name)
            outputs.append(ctx.artifacts / wheel.name)
        return finish(Draft(self.name, outputs=digests(ctx, outputs)), started)


class _StagingAfterImage(StagingStage):
    requires: tuple[str, ...] = ("image",)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """build (the repository's wheel) -> image -> staging through the real engine, so that
    staging loads the tar the image stage recorded in the run's event log."""
    workspace = tmp_path_factory.mktemp("pipeline")
    built = tmp_path_factory.mktemp("wheel")
    ctx = make_ctx(
        workspace, "image",
        app_dockerfile=str(ROOT / "Dockerfile.app"),
        app_image_context_script=str(ROOT / "scripts" / "build-app-image.sh"),
        wheelhouse=str(ROOT / "wheelhouse"),
        staging_compose=str(ROOT / "docker-compose.staging.yml"),
        keep_previous=0,
    )
    staging = _StagingAfterImage.for_config(ctx.config)
    assert staging.checks == FINSIG_CHECKS
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(ROOT / "wheelhouse")}
    subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
         str(built), str(ROOT)], check=True, env=env, capture_output=True, timeout=300)
    registry: dict[str, Stage] = {"build": _Wheel(built), "image": ImageStage(), "staging": staging}
    engine = Engine(registry, workspace, ctx.config, run_id=ctx.run_id, handle_signals=False)
    try:
        out = engine.run(build_plan(registry))
        yield Pipeline(workspace, ctx.run_id, out.results["image"], out.results["staging"])
    finally:
        sweep_run(ctx.run_id)


@pytest.mark.timeout(420)
def test_image_stage_saves_and_hashes_the_image(pipeline: Pipeline) -> None:
    result = pipeline.image
    assert result.status is Status.PASSED, result.reason
    artifacts = pipeline.workspace / "artifacts"
    tar = artifacts / "docker-image.tar"
    digest = hashlib.sha256(tar.read_bytes()).hexdigest()
    assert (artifacts / "docker-hash.txt").read_text() == f"{digest}  docker-image.tar\n"
    image_id = (artifacts / "docker-image-sha256.txt").read_text().strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    checks = {c.id: c for c in result.checks}
    assert checks["image.build"].status is Status.PASSED
    assert checks["image.reproducible"].status in (Status.PASSED, Status.FAILED)
    report = json.loads((pipeline.workspace / "reports" / "image-report.json").read_text())
    assert report["image_id"] == image_id
    if checks["image.reproducible"].status is Status.FAILED:  # information: what differs
        assert report["rebuild"]["config_fields"] or report["rebuild"]["layers"]
    assert report["tag"] == run_tag(pipeline.run_id)
    # the build args' scope: the inputs the context script lists (scripts/build-app-image.sh)
    assert report["build_args_scope"][:2] == ["scripts/build-app-image.sh", "Dockerfile.app"]
    assert set(report["build_args"]) == {"VERSION", "REVISION", "CREATED"}


def test_the_tag_make_images_built_is_untouched_and_run_images_are_gone(
        pipeline: Pipeline) -> None:
    import docker

    client = docker.from_env()
    try:
        tags = [t for i in client.images.list("finsig/app") for t in i.tags]
        assert "finsig/app:0.1.0" in tags
        assert not [t for t in tags if pipeline.run_id in t]
    finally:
        client.close()


@pytest.mark.timeout(60)
def test_staging_passes_every_check(pipeline: Pipeline) -> None:
    result = pipeline.staging
    assert result.status is Status.PASSED, result.reason
    statuses = {c.id: c.status for c in result.checks}
    assert statuses == {cid: Status.PASSED for cid in FINSIG_CHECKS}


def test_deploy_report_has_every_check_with_timing(pipeline: Pipeline) -> None:
    reports = pipeline.workspace / "reports"
    doc = json.loads((reports / "deploy-report.json").read_text())
    assert doc["status"] == "PASSED"
    assert [c["id"] for c in doc["checks"]] == list(FINSIG_CHECKS)
    assert all(c["seconds"] >= 0 and c["started"].endswith("Z") for c in doc["checks"])
    for key in ("all_green_s", "teardown_s", "appdown_firing_s", "appdown_alertmanager_s",
                "postgresdown_firing_s", "postgresdown_alertmanager_s"):
        assert doc["measurements"][key] > 0, key
    # AppDown has `for: 10s`: it cannot fire sooner
    assert doc["measurements"]["appdown_firing_s"] >= 10
    log = (reports / "deploy-report.log").read_text()
    assert "staging.alert.AppDown" in log and log.rstrip().endswith("result PASSED")
    assert doc["services"]["app"]["image"] == run_tag(pipeline.run_id)
    # the report's services timeline: the app waits for a healthy postgres before it starts
    db, app = doc["services"]["postgres"], doc["services"]["app"]
    assert 0 <= db["started_s"] < app["started_s"]
    assert app["started_s"] >= db["started_s"] + db["ready_after_s"] - 0.5


def test_nothing_of_the_run_remains(pipeline: Pipeline) -> None:
    assert leftovers(pipeline.run_id) == {"containers": [], "networks": [], "volumes": [],
                                          "images": []}
