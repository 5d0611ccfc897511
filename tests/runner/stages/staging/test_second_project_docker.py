"""The staging stage over a second, tiny project (tiny_project/): its own service, health path and
metric, configured in its own pyproject.toml. It passes; a wrong health path fails the stage
naming the path. The monitoring stage runs promtool in the Prometheus image its compose file names.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from finsig_runner.containers.resources import run_labels
from finsig_runner.core.config_loader import load
from finsig_runner.core.context import StageContext
from finsig_runner.core.model import Status
from finsig_runner.stages.monitoring import MonitoringStage
from finsig_runner.stages.staging.stage import StagingStage
from tests.runner.stages.staging.conftest import leftovers
from tests.support.containers import LABELS

pytestmark = [pytest.mark.docker]

TINY = Path(__file__).resolve().parent / "tiny_project"
NOTHING = {"containers": [], "networks": [], "volumes": [], "images": []}
CHECKS = ("staging.up", "staging.ready.tiny", "staging.targets", "staging.rules",
          "staging.smoke.echo", "staging.scrape", "staging.alert.TinyDown",
          "staging.resolved.TinyDown", "staging.teardown")


@pytest.fixture(scope="module")
def tiny_image() -> Iterator[str]:
    """The tiny service's image, built from finsig/base (no network), removed afterwards."""
    import docker

    client = docker.from_env()
    tag = f"finsig-test/tiny:{uuid.uuid4().hex[:10]}"  # unique: suites may share an engine
    try:
        client.images.build(path=str(TINY), tag=tag, rm=True, forcerm=True, pull=False,
                            network_mode="none", labels={**LABELS, **run_labels(tag, "test")},
                            timeout=120)
        yield tag
    finally:
        try:
            client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass
        client.close()


def _context(tmp_path: Path, stage: str, image: str, health: str = "/health",
             check_timeout: int = 10) -> StageContext:
    """The tiny project copied to a workspace; its configuration loaded as a run would."""
    workspace = tmp_path / "tiny"
    shutil.copytree(TINY, workspace)
    pyproject = workspace / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('path = "/health"', f'path = "{health}"'))
    for sub in ("reports", "artifacts"):
        (workspace / sub).mkdir()
    config = load(workspace, {}, [f"staging_app_image={image}", "staging_start_timeout=30",
                                  f"staging_check_timeout={check_timeout}",
                                  "staging_alert_timeout=20"])
    return StageContext.create(workspace, config, stage, f"test-{uuid.uuid4().hex[:10]}")


@pytest.mark.timeout(120)
def test_a_second_project_passes_staging_with_its_own_names(
        tmp_path: Path, tiny_image: str, swept: list[str]) -> None:
    ctx = _context(tmp_path, "staging", tiny_image)
    swept.append(ctx.run_id)
    stage = StagingStage.for_config(ctx.config)
    assert stage.checks == CHECKS
    result = stage.run(ctx)
    assert result.status is Status.PASSED, result.reason
    checks = {c.id: c for c in result.checks}
    assert tuple(checks) == CHECKS
    assert "tiny GET /health (port 8080) answered 200" in checks["staging.ready.tiny"].detail
    assert checks["staging.scrape"].detail.startswith('tiny_requests_total{path="/echo"} ')
    assert "1 expected values held" in checks["staging.smoke.echo"].detail
    assert "in Alertmanager after" in checks["staging.alert.TinyDown"].detail
    assert result.summary["measurements"]["tinydown_firing_s"] > 0
    assert leftovers(ctx.run_id) == NOTHING


@pytest.mark.timeout(90)
def test_a_wrong_health_path_fails_the_stage_naming_the_path(
        tmp_path: Path, tiny_image: str, swept: list[str]) -> None:
    ctx = _context(tmp_path, "staging", tiny_image, health="/healthz", check_timeout=3)
    swept.append(ctx.run_id)
    result = StagingStage.for_config(ctx.config).run(ctx)
    assert result.status is Status.FAILED
    checks = {c.id: c for c in result.checks}
    assert checks["staging.up"].status is Status.PASSED
    assert checks["staging.ready.tiny"].status is Status.FAILED
    assert ("staging.ready.tiny: tiny GET /healthz (port 8080) answered 404, not 200"
            in result.reason)
    assert "staging.alert.TinyDown" not in checks  # no drill on a stack that failed a check
    assert leftovers(ctx.run_id) == NOTHING


@pytest.mark.timeout(60)
def test_monitoring_runs_promtool_in_the_second_project_s_prometheus(
        tmp_path: Path, tiny_image: str) -> None:
    ctx = _context(tmp_path, "monitoring", tiny_image)
    result = MonitoringStage().run(ctx)
    assert result.status is Status.PASSED, result.reason
    statuses = {c.id: c.status for c in result.checks}
    assert statuses == {"monitoring.config": Status.PASSED, "monitoring.rules": Status.PASSED,
                        "monitoring.rule_tests": Status.SKIPPED}  # it has no rule tests
    report = json.loads((ctx.reports / "monitoring-report.json").read_text())
    assert report["image"] == "finsig/prometheus:0.1.0"  # its compose file's, not a constant
    assert leftovers(ctx.run_id)["containers"] == []
