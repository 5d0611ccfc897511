"""The monitoring files agree with each other, with the app and with the staging compose file.

No Docker: promtool itself runs in test_promtool.py. These catch what promtool cannot: an alert
without a firing or a not-firing unit test, a rule on a metric name the app does not export, a
scrape target that is not a service of docker-compose.staging.yml.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from finsig_runner.containers.compose import load_compose

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
ALERTS = {"AppDown", "PostgresDown", "HighCPU", "HighMemory", "HighErrorRate", "HighLatency"}

pytestmark = pytest.mark.timeout(30)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rules() -> dict[str, dict[str, Any]]:
    groups = load(MONITORING / "alert_rules.yml")["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


# promtool's own field names (it parses strictly; a misspelt key here would hide every case)
FILE_KEYS = {"rule_files", "evaluation_interval", "group_eval_order", "tests"}
GROUP_KEYS = {"name", "interval", "input_series", "alert_rule_test", "promql_expr_test",
              "external_labels", "external_url"}
CASE_KEYS = {"eval_time", "alertname", "exp_alerts"}


def unit_tests() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted((MONITORING / "tests").glob("*.yml")):
        document = load(path)
        assert set(document) <= FILE_KEYS, path
        assert document["rule_files"] == ["../alert_rules.yml"], path
        for group in document["tests"]:
            assert set(group) <= GROUP_KEYS, (path, group.get("name"))
            for case in group.get("alert_rule_test", []):
                assert set(case) <= CASE_KEYS, (path, group.get("name"))
                cases.append(case)
    return cases


def test_every_alert_is_there_with_severity_summary_and_description() -> None:
    found = rules()
    assert set(found) == ALERTS
    for name, rule in found.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"], name
        assert rule["annotations"]["description"], name
        assert rule.get("for"), f"{name} has no `for`: one bad scrape would page"


@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_every_alert_has_a_firing_and_a_quiet_unit_test(alert: str) -> None:
    cases = [case for case in unit_tests() if case["alertname"] == alert]
    firing = [case for case in cases if case.get("exp_alerts")]
    quiet = [case for case in cases if not case.get("exp_alerts")]
    assert firing, f"no unit test shows {alert} firing"
    assert quiet, f"no unit test shows {alert} not firing"
    severity = rules()[alert]["labels"]["severity"]
    for case in firing:
        for expected in case["exp_alerts"]:
            assert expected["exp_labels"]["severity"] == severity
            assert set(expected["exp_annotations"]) == {"summary", "description"}


def test_rules_use_the_metric_names_the_app_exports() -> None:
    from finsig.metrics import Metrics

    metrics = Metrics()
    metrics.observe_request("/v1/instruments/{symbol}/prices", "POST", 500, 0.1)
    exported = {sample.name: set(sample.labels) for family in metrics.registry.collect()
                for sample in family.samples}
    used = {name for rule in rules().values()
            for name in re.findall(r"\bfinsig_[a-z_]+", rule["expr"])}
    assert used == {"finsig_http_requests_total", "finsig_http_request_duration_seconds_bucket"}
    for name in used:
        assert name in exported, f"{name} is not exported by finsig.metrics"
    assert {"route", "status"} <= exported["finsig_http_requests_total"]
    assert {"route", "le"} <= exported["finsig_http_request_duration_seconds_bucket"]


def test_scrape_targets_are_the_staging_services() -> None:
    config = load(MONITORING / "prometheus.yml")
    project = load_compose(ROOT / "docker-compose.staging.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"app", "postgres-exporter", "node-exporter", "prometheus"}
    targets = [t for job in jobs.values() for sc in job["static_configs"] for t in sc["targets"]]
    targets += [t for am in config["alerting"]["alertmanagers"]
                for sc in am["static_configs"] for t in sc["targets"]]
    assert "alertmanager:9093" in targets
    for target in targets:
        host, port = target.rsplit(":", 1)
        assert host in project.services, target
        assert int(port) in [p.container_port for p in project.services[host].ports], target
    for rule_file in config["rule_files"]:
        assert (MONITORING / rule_file).is_file()


def test_prometheus_reads_the_files_where_compose_puts_them() -> None:
    project = load_compose(ROOT / "docker-compose.staging.yml")
    binds = {bind.path.name: bind.target for bind in project.services["prometheus"].binds}
    assert binds["prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    # rule_files are relative to the config file's directory
    assert binds["alert_rules.yml"] == "/etc/prometheus/alert_rules.yml"


def test_staging_intervals_are_short() -> None:
    config = load(MONITORING / "prometheus.yml")["global"]
    assert config["scrape_interval"] == "2s"
    assert config["evaluation_interval"] == "2s"


def test_alertmanager_sends_nowhere() -> None:
    config = load(MONITORING / "alertmanager.yml")
    for receiver in config["receivers"]:
        assert set(receiver) == {"name"}, "staging must work offline: no notifier configs"
