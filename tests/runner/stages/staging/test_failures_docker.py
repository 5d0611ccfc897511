"""Staging fails with a clear reason -- and leaves nothing -- when the app exits at start, an alert
rule does not load, or a target cannot be scraped; an interrupt tears the stack down."""

from __future__ import annotations

import io
import json
import threading
import uuid
from pathlib import Path

import pytest

from finsig_runner.core.context import Cancelled
from finsig_runner.containers.resources import run_labels
from finsig_runner.core.model import Status
from finsig_runner.stages.staging.stage import StagingStage
from tests.runner.stages.staging.conftest import leftovers, make_ctx, staging_copy

pytestmark = [pytest.mark.docker]

NOTHING = {"containers": [], "networks": [], "volumes": [], "images": []}


def _fast(compose: Path, **extra: object) -> dict[str, object]:
    return {"staging_compose": str(compose), "staging_fault_drill": False,
            "staging_start_timeout": 60, "staging_check_timeout": 15, **extra}


@pytest.mark.timeout(120)
def test_an_app_image_that_exits_at_start_fails_with_its_last_log_lines(
        tmp_path: Path, swept: list[str]) -> None:
    import docker

    client = docker.from_env()
    tag = f"finsig/app:exits-{uuid.uuid4().hex[:10]}"  # unique: suites may share an engine
    dockerfile = (b'FROM finsig/app:0.1.0\nENTRYPOINT ["/bin/sh", "-c", '
                  b'"echo refusing to start: no config >&2; exit 3"]\n')
    try:
        client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, pull=False,
                            network_mode="none", labels=run_labels(tag, "test"))
        ctx = make_ctx(tmp_path, "staging", **_fast(staging_copy(tmp_path / "ws"),
                                                    staging_app_image=tag))
        swept.append(ctx.run_id)
        result = StagingStage().run(ctx)
    finally:
        client.images.remove(tag, force=True)
        client.close()
    assert result.status is Status.FAILED
    assert "staging.up: app: exited with status 3" in result.reason
    log = (tmp_path / "reports" / "deploy-report.log").read_text()
    assert "app: refusing to start: no config" in log
    assert leftovers(ctx.run_id) == NOTHING


@pytest.mark.timeout(120)
def test_an_alert_rule_that_does_not_load_fails_naming_prometheus(
        tmp_path: Path, swept: list[str]) -> None:
    compose = staging_copy(tmp_path / "ws")
    rules = compose.parent / "monitoring" / "alert_rules.yml"
    rules.write_text(rules.read_text().replace('expr: up{job="app"} == 0',
                                               'expr: up{job="app" == 0'))
    ctx = make_ctx(tmp_path, "staging", **_fast(compose))
    swept.append(ctx.run_id)
    result = StagingStage().run(ctx)
    assert result.status is Status.FAILED
    assert "staging.up: prometheus: exited" in result.reason
    log = (tmp_path / "reports" / "deploy-report.log").read_text()
    assert "alert_rules.yml" in log  # Prometheus' own error, from its last log lines
    assert leftovers(ctx.run_id) == NOTHING


# Loads (promtool check rules passes) but fails at every evaluation: both series get the same
# labels, which an instant vector cannot hold.
EVAL_ERROR_GROUP = """
  - name: broken-at-evaluation
    rules:
      - alert: Duplicates
        expr: label_replace(label_replace(up, "instance", "x", "", ""), "job", "x", "", "")
"""


@pytest.mark.timeout(150)
def test_an_unscrapeable_target_and_a_rule_that_errors_fail_their_checks(
        tmp_path: Path, swept: list[str]) -> None:
    # one stack for both cases: they are independent checks of the same run
    compose = staging_copy(tmp_path / "ws")
    config = compose.parent / "monitoring" / "prometheus.yml"
    config.write_text(config.read_text() + (
        "\n  - job_name: ghost\n    static_configs:\n"
        "      - targets: [\"node-exporter:9999\"]\n"))
    rules = compose.parent / "monitoring" / "alert_rules.yml"
    rules.write_text(rules.read_text().rstrip("\n") + "\n" + EVAL_ERROR_GROUP)
    ctx = make_ctx(tmp_path, "staging", **_fast(compose, staging_check_timeout=8))
    swept.append(ctx.run_id)
    result = StagingStage().run(ctx)
    assert result.status is Status.FAILED
    checks = {c.id: c for c in result.checks}
    assert checks["staging.targets"].status is Status.FAILED
    assert "ghost http://node-exporter:9999/metrics down" in checks["staging.targets"].detail
    assert checks["staging.rules"].status is Status.FAILED
    assert "broken-at-evaluation/Duplicates err: " in checks["staging.rules"].detail
    assert "same labelset" in checks["staging.rules"].detail
    assert checks["staging.up"].status is Status.PASSED
    assert checks["staging.teardown"].status is Status.PASSED
    assert leftovers(ctx.run_id) == NOTHING


@pytest.mark.timeout(90)
def test_an_interrupt_during_bring_up_tears_the_stack_down(
        tmp_path: Path, swept: list[str]) -> None:
    ctx = make_ctx(tmp_path, "staging", **_fast(staging_copy(tmp_path / "ws")))
    swept.append(ctx.run_id)
    # what the engine does on SIGINT/SIGTERM: cancel the run's processes (sets the event)
    timer = threading.Timer(4.0, ctx.processes.cancel)
    timer.start()
    try:
        with pytest.raises(Cancelled):
            StagingStage().run(ctx)
    finally:
        timer.cancel()
    log = (tmp_path / "reports" / "deploy-report.log").read_text()
    assert "interrupted: tearing down" in log
    assert leftovers(ctx.run_id) == NOTHING


@pytest.mark.timeout(60)
def test_a_compose_key_the_stage_does_not_understand_is_an_error_naming_it(
        tmp_path: Path, swept: list[str]) -> None:
    compose = staging_copy(tmp_path / "ws")
    text = compose.read_text()
    compose.write_text(text.replace("  app:\n", "  app:\n    restart: unless-stopped\n", 1))
    ctx = make_ctx(tmp_path, "staging", **_fast(compose))
    swept.append(ctx.run_id)
    result = StagingStage().run(ctx)
    assert result.status is Status.ERROR
    assert "services.app.restart: unsupported key 'restart'" in result.reason
    assert leftovers(ctx.run_id) == NOTHING  # nothing was started


@pytest.mark.timeout(60)
def test_an_error_of_the_engine_mid_stage_is_an_error_torn_down_and_reported(
        tmp_path: Path, swept: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from finsig_runner.containers.stack import Stack

    def broken(self: Stack) -> None:
        raise RuntimeError("engine refused to create the network")

    monkeypatch.setattr(Stack, "up", broken)
    ctx = make_ctx(tmp_path, "staging", **_fast(staging_copy(tmp_path / "ws")))
    swept.append(ctx.run_id)
    result = StagingStage().run(ctx)
    assert result.status is Status.ERROR
    assert result.reason == "RuntimeError: engine refused to create the network"
    report = json.loads((tmp_path / "reports" / "deploy-report.json").read_text())
    assert report["status"] == "ERROR"
    assert [c["id"] for c in report["checks"]] == ["staging.teardown"]
    assert leftovers(ctx.run_id) == NOTHING
