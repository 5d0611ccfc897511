"""The monitoring stage in the Prometheus image; `finsig-runner clean` on real Docker objects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finsig_runner import docker_resources
from finsig_runner.cli import main
from finsig_runner.model import Status
from finsig_runner.stages.monitoring import MonitoringStage
from tests.staging.conftest import ROOT, leftovers, make_ctx, staging_copy

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def test_monitoring_passes_on_the_project_files(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, "monitoring", monitoring_dir=str(ROOT / "monitoring"))
    result = MonitoringStage().run(ctx)
    assert result.status is Status.PASSED, result.reason
    assert [c.id for c in result.checks] == list(MonitoringStage.checks)
    assert "promtool test rules" in (tmp_path / "reports" / "monitoring-report.txt").read_text()
    assert leftovers(ctx.run_id)["containers"] == []


def test_monitoring_fails_on_a_rule_that_does_not_parse(tmp_path: Path) -> None:
    workspace = staging_copy(tmp_path / "ws").parent
    rules = workspace / "monitoring" / "alert_rules.yml"
    rules.write_text(rules.read_text().replace("for: 10s", "fore: 10s", 1))
    ctx = make_ctx(tmp_path, "monitoring", monitoring_dir=str(workspace / "monitoring"))
    result = MonitoringStage().run(ctx)
    assert result.status is Status.FAILED
    assert "monitoring.rules" in result.reason and "fore" in result.reason
    assert leftovers(ctx.run_id)["containers"] == []


def test_clean_removes_a_dead_runs_objects_and_keeps_a_live_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    import docker

    client = docker.from_env()
    dead = {**docker_resources.run_labels("test-clean-dead", "staging"),
            docker_resources.PID_LABEL: "999999999"}  # no such process
    live = docker_resources.run_labels("test-clean-live", "staging")
    try:
        net = client.networks.create("finsig-test-clean-dead", labels=dead)
        client.volumes.create("finsig-test-clean-dead", labels=dead)
        client.containers.create("finsig/base:0.1.0", ["true"], labels=dead,
                                 network_mode="none", name="finsig-test-clean-dead")
        client.containers.create("finsig/base:0.1.0", ["true"], labels=live,
                                 network_mode="none", name="finsig-test-clean-live")
        # --run: a test must not touch other runs on a shared engine
        assert main(["clean", "--run", "test-clean-dead"]) == 0
        assert main(["clean", "--run", "test-clean-live"]) == 0
        out = capsys.readouterr().out
        assert "removed  run test-clean-dead: process 999999999 is gone" in out
        assert f"kept     run test-clean-live: process {os.getpid()} is still running" in out
        assert leftovers("test-clean-dead") == {"containers": [], "networks": [], "volumes": [],
                                                "images": []}
        assert leftovers("test-clean-live")["containers"] == ["finsig-test-clean-live"]
        assert main(["clean", "--run", "test-clean-live", "--force"]) == 0
        assert leftovers("test-clean-live")["containers"] == []
        del net
    finally:
        docker_resources.remove_run(client, "test-clean-dead")
        docker_resources.remove_run(client, "test-clean-live")
        client.close()
