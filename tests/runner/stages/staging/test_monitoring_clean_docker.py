"""The monitoring stage in the Prometheus image; `finsig-runner clean` on real Docker objects."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from finsig_runner.containers import resources as docker_resources
from finsig_runner.cli.main import main
from finsig_runner.core.model import Status
from finsig_runner.stages.monitoring import MonitoringStage
from tests.runner.stages.staging.conftest import ROOT, leftovers, make_ctx, staging_copy

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def test_monitoring_passes_on_the_project_files(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, "monitoring", monitoring_dir=str(ROOT / "monitoring"),
                   staging_compose=str(ROOT / "docker-compose.staging.yml"))
    result = MonitoringStage().run(ctx)
    assert result.status is Status.PASSED, result.reason
    assert [c.id for c in result.checks] == list(MonitoringStage.checks)
    assert "promtool test rules" in (tmp_path / "reports" / "monitoring-report.txt").read_text()
    report = json.loads((tmp_path / "reports" / "monitoring-report.json").read_text())
    assert report["image"] == "finsig/prometheus:0.1.0"  # the compose file's Prometheus
    assert leftovers(ctx.run_id)["containers"] == []


def test_monitoring_fails_on_a_rule_that_does_not_parse(tmp_path: Path) -> None:
    workspace = staging_copy(tmp_path / "ws").parent
    rules = workspace / "monitoring" / "alert_rules.yml"
    rules.write_text(rules.read_text().replace("for: 10s", "fore: 10s", 1))
    ctx = make_ctx(tmp_path, "monitoring", monitoring_dir=str(workspace / "monitoring"),
                   staging_compose=str(workspace / "docker-compose.staging.yml"))
    result = MonitoringStage().run(ctx)
    assert result.status is Status.FAILED
    assert "monitoring.rules" in result.reason and "fore" in result.reason
    assert leftovers(ctx.run_id)["containers"] == []


def test_clean_removes_a_dead_runs_objects_and_keeps_a_live_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    import docker

    client = docker.from_env()
    suffix = uuid.uuid4().hex[:8]  # two suites may share an engine
    dead_id, live_id = f"test-clean-dead-{suffix}", f"test-clean-live-{suffix}"
    dead = {**docker_resources.run_labels(dead_id, "staging"),
            docker_resources.PID_LABEL: "999999999"}  # no such process
    live = docker_resources.run_labels(live_id, "staging")
    try:
        client.networks.create(f"finsig-{dead_id}", labels=dead)
        client.volumes.create(f"finsig-{dead_id}", labels=dead)
        client.containers.create("finsig/base:0.1.0", ["true"], labels=dead,
                                 network_mode="none", name=f"finsig-{dead_id}")
        client.containers.create("finsig/base:0.1.0", ["true"], labels=live,
                                 network_mode="none", name=f"finsig-{live_id}")
        # --run: a test must not touch other runs on a shared engine
        assert main(["clean", "--run", dead_id]) == 0
        assert main(["clean", "--run", live_id]) == 0
        out = capsys.readouterr().out
        assert f"removed  run {dead_id}: process 999999999 is gone" in out
        assert f"kept     run {live_id}: process {os.getpid()} is still running" in out
        assert leftovers(dead_id) == {"containers": [], "networks": [], "volumes": [],
                                      "images": []}
        assert leftovers(live_id)["containers"] == [f"finsig-{live_id}"]
        assert main(["clean", "--run", live_id, "--force"]) == 0
        assert leftovers(live_id)["containers"] == []
    finally:
        docker_resources.remove_run(client, dead_id)
        docker_resources.remove_run(client, live_id)
        client.close()


NODE_ONLY = """\
services:
  node-exporter:
    image: finsig/node-exporter:0.1.0
    ports: ["127.0.0.1::9100"]
"""


def test_inside_the_runner_services_join_its_network_by_alias_unpublished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docker

    from finsig_runner.containers.compose import parse_compose
    from finsig_runner.stages.staging.report import DeployReport
    from finsig_runner.containers.stack import Stack

    client = docker.from_env()
    run_id = f"test-inside-{tmp_path.name[-8:].lower()}"
    # what finsig_runner.containers.run_network makes inside the runner container
    runner_net = client.networks.create(f"finsig-run-{run_id}", driver="bridge", internal=True,
                                        labels=docker_resources.run_labels(run_id, "runner"))
    monkeypatch.setenv("FINSIG_RUNNER_NETWORK", runner_net.name)
    project = parse_compose(NODE_ONLY, tmp_path)
    stack = Stack(client, project, run_id, docker_resources.run_labels(run_id, "staging"),
                  DeployReport(run_id), 60.0, lambda: False)
    try:
        stack.up()
        running = stack.get("node-exporter")
        running.wrapped.reload()
        attrs = running.wrapped.attrs
        assert list(attrs["NetworkSettings"]["Networks"]) == [runner_net.name]
        assert "node-exporter" in attrs["NetworkSettings"]["Networks"][runner_net.name]["Aliases"]
        assert not any(attrs["NetworkSettings"]["Ports"].values())  # nothing published
        assert running.address(9100).url("/metrics") == "http://node-exporter:9100/metrics"
        assert stack.down() == []
        assert leftovers(run_id)["containers"] == []
        assert leftovers(run_id)["networks"] == [runner_net.name]  # the runner's to remove
    finally:
        docker_resources.remove_run(client, run_id)
        client.close()
