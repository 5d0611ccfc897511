"""Unit tests (no Docker): the staging checks follow the configuration — their ids, what the
verdict requires, the configuration read against the compose file, and JSON expectations."""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from finsig_runner.containers.compose import ComposeProject, parse_compose
from finsig_runner.core.config import Fault, Probe, RunnerConfig, Scrape, SmokeRequest
from finsig_runner.core.config import StagingSettings
from finsig_runner.core.errors import ConfigError
from finsig_runner.core.model import Status
from finsig_runner.evidence.verdict import Policy, StageState, judge
from finsig_runner.stages.registry import stages_for
from finsig_runner.stages.staging import ids, topology
from finsig_runner.stages.staging.expect import match
from finsig_runner.stages.staging.stage import StagingStage
from finsig_runner.stages.staging_compose import NoPrometheus, prometheus_image
from tests.runner.stages.staging.conftest import FINSIG_STAGING, ROOT

pytestmark = pytest.mark.timeout(30)

GENERIC = ("staging.up", "staging.targets", "staging.rules", "staging.teardown")
FINSIG = ("staging.up", "staging.ready.app", "staging.targets", "staging.rules",
          "staging.smoke.ingest", "staging.smoke.signals", "staging.scrape",
          "staging.alert.AppDown", "staging.resolved.AppDown", "staging.alert.PostgresDown",
          "staging.recovered.PostgresDown", "staging.teardown")


def test_without_a_staging_table_only_generic_checks_are_declared() -> None:
    assert StagingStage().checks == GENERIC
    assert stages_for(RunnerConfig())["staging"].checks == GENERIC


def test_finsig_s_checks_follow_its_configuration() -> None:
    config = replace(RunnerConfig(), staging=FINSIG_STAGING)
    assert stages_for(config)["staging"].checks == FINSIG
    # with the drill off, its checks are not declared (so not required either)
    off = replace(config, staging_fault_drill=False)
    assert stages_for(off)["staging"].checks == FINSIG[:7] + ("staging.teardown",)


def test_the_documented_patterns_still_match_finsig_s_checks() -> None:
    defaults = RunnerConfig()
    policy = Policy.from_config(defaults)
    assert all(policy.is_required(c) for c in FINSIG)  # required_checks ["*"], none optional
    assert all(fnmatchcase(c, "staging.*") for c in FINSIG)  # the allow_skipped example


def test_validate_requires_what_the_run_s_registry_declares_and_a_missing_one_fails() -> None:
    config = replace(RunnerConfig(), staging=FINSIG_STAGING)
    registry = stages_for(config)
    declared = registry["validate"].declared  # type: ignore[attr-defined]
    assert declared["staging"] == FINSIG
    everything = [c for checks in declared.values() for c in checks]
    reported = {c: (Status.PASSED, "") for c in everything if c != "staging.smoke.signals"}
    judged = judge(Policy.from_config(config), declared,
                   {name: StageState(Status.PASSED, "") for name in declared}, reported)
    assert "staging.smoke.signals" in judged.required
    assert [(f.id, f.status) for f in judged.failures] == [("staging.smoke.signals", "MISSING")]


# --- the configuration read against the compose file --------------------------------------------

COMPOSE = """
services:
  web:
    image: tiny/web:1
    healthcheck: {test: ["CMD", "true"]}
    ports: ["127.0.0.1::8080"]
  cache:
    image: tiny/cache:1
  prom:
    image: tiny/prometheus:1
    ports: ["127.0.0.1::9091"]
    volumes: ["./mon/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
              "./mon/rules.yml:/etc/prometheus/rules.yml:ro"]
  am:
    image: tiny/alertmanager:1
"""
PROMETHEUS = """
scrape_configs:
  - job_name: web
    static_configs: [{targets: ["web:8080"]}]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["elsewhere:1", "am:9093"]}]
rule_files: [rules.yml]
"""


@pytest.fixture
def project(tmp_path: Path) -> ComposeProject:
    (tmp_path / "mon").mkdir()
    (tmp_path / "mon" / "prometheus.yml").write_text(PROMETHEUS)
    (tmp_path / "mon" / "rules.yml").write_text("groups:\n  - name: web\n    rules: []\n")
    return parse_compose(COMPOSE, base_dir=tmp_path, path=tmp_path / "compose.yml")


def test_prometheus_and_alertmanager_are_found_from_the_compose_file(
        project: ComposeProject, tmp_path: Path) -> None:
    layout = topology.resolve(project, StagingSettings(), tmp_path)
    mon = layout.monitoring
    assert mon.prometheus == topology.Endpoint("prom", 9091)  # its first declared port
    assert mon.alertmanager == topology.Endpoint("am", 9093)  # from Prometheus' alerting
    assert (mon.jobs, mon.groups) == (("web",), ("web",))


def test_monitoring_s_image_is_the_compose_file_s_prometheus(tmp_path: Path) -> None:
    assert prometheus_image(ROOT / "docker-compose.staging.yml") == "finsig/prometheus:0.1.0"
    (tmp_path / "c.yml").write_text("services:\n  web:\n    image: tiny/web:1\n")
    with pytest.raises(NoPrometheus, match="no service of c.yml mounts a prometheus.yml"):
        prometheus_image(tmp_path / "c.yml")


@pytest.mark.parametrize(
    ("settings", "key", "words"),
    [
        (StagingSettings(ready=(Probe("wbe", 8080, "/health"),)), "staging.ready[0].service",
         "no service 'wbe'"),
        (StagingSettings(ready=(Probe("cache"),)), "staging.ready[0]", "has no healthcheck"),
        (StagingSettings(faults=(Fault("web", "WebDown", while_down=(
            Probe("nope", 1, "/"),)),)), "staging.faults[0].while_down[0].service", "'nope'"),
        (StagingSettings(smoke=(SmokeRequest("a", "web", 8080, "/", body_file="none.json"),)),
         "staging.smoke[0].body_file", "cannot read"),
        (StagingSettings(smoke=(SmokeRequest("a", "web", 8080, "/", expect_file="bad.json"),)),
         "staging.smoke[0].expect_file", "is not JSON"),
    ],
)
def test_a_setting_that_does_not_fit_the_compose_file_names_its_key(
        project: ComposeProject, tmp_path: Path, settings: StagingSettings, key: str,
        words: str) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError) as caught:
        topology.resolve(project, settings, tmp_path)
    assert caught.value.key == key and words in str(caught.value)


def test_scraping_and_faults_need_prometheus(tmp_path: Path) -> None:
    bare = parse_compose("services:\n  web:\n    image: tiny/web:1\n", base_dir=tmp_path)
    for settings, key in ((StagingSettings(scrape=Scrape("web_total")), "staging.scrape"),
                          (StagingSettings(faults=(Fault("web", "WebDown"),)),
                           "staging.faults")):
        with pytest.raises(ConfigError, match="needs Prometheus") as caught:
            topology.resolve(bare, settings, tmp_path)
        assert caught.value.key == key
    assert topology.resolve(bare, StagingSettings(), tmp_path).monitoring.prometheus is None


def test_check_ids_name_the_configured_things() -> None:
    assert ids.ready("web") == "staging.ready.web"
    assert ids.recovery(Fault("db", "DbDown", "recovered")) == "staging.recovered.DbDown"
    assert ids.recovery(Fault("db", "DbDown")) == "staging.resolved.DbDown"


# --- expectations -------------------------------------------------------------------------------


def test_an_expectation_ignores_extra_keys_and_names_the_first_difference() -> None:
    got = {"rows": [{"close": 1.0, "signal": "hold", "rsi": None}], "extra": 1}
    held = match(got, {"rows": [{"close": 1.0 + 1e-12, "signal": "hold"}]}, 1e-9)
    assert held.ok and held.compared == 2
    cases = [
        ({"rows": [{"close": 1.01}]}, "$.rows[0].close: got 1.0, want 1.01"),
        ({"rows": [{"signal": "buy"}]}, "$.rows[0].signal: got 'hold', want 'buy'"),
        ({"rows": []}, "$.rows: 1 items, want 0"),
        ({"missing": 1}, "$.missing: missing"),
        ({"extra": True}, "$.extra: got 1, want True"),
        ({"rows": [{"rsi": 0}]}, "$.rows[0].rsi: got None, want 0"),
    ]
    for want, problem in cases:
        assert match(got, want, 1e-9).problem == problem
