"""finsig/prometheus: answers ready, reloads, and its promtool checks configurations."""

from __future__ import annotations

import pytest

from tests.support.images import http_post, network, running, service, url_of, wait_exit, wait_http
from tests.support.containers import image_tag, local_container

pytestmark = pytest.mark.docker

SAMPLE_CONFIG = b"""\
global:
  scrape_interval: 5s
rule_files:
  - /tmp/check/rules.yml
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["app:8000"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]
"""
SAMPLE_RULES = b"""\
groups:
  - name: finsig
    rules:
      - alert: AppDown
        expr: up{job="app"} == 0
        for: 10s
        labels: {severity: critical}
"""
BROKEN_CONFIG = b"""\
global:
  scrape_interval: five seconds
scrape_configs:
  - job_name: app
"""


def promtool(config: bytes, rules: bytes = SAMPLE_RULES) -> tuple[int, str]:
    """Run `promtool check config` in finsig/prometheus on the given files (no network at all)."""
    container = (
        local_container(image_tag("prometheus"), entrypoint="promtool", network_mode="none")
        .with_command(["check", "config", "/tmp/check/prometheus.yml"])
        .with_copy_into_container(config, "/tmp/check/prometheus.yml")
        .with_copy_into_container(rules, "/tmp/check/rules.yml")
    )
    with running(container):
        return wait_exit(container, timeout=60)


@pytest.mark.timeout(90)
def test_ready_and_reload() -> None:
    with network() as net, running(service(image_tag("prometheus"), 9090, net)) as prom:
        assert "Ready" in wait_http(prom, 9090, "/-/ready", timeout=40)
        assert http_post(url_of(prom, 9090, "/-/reload")) == 200  # --web.enable-lifecycle is on
        body = wait_http(prom, 9090, "/api/v1/status/flags")
        assert '"web.enable-lifecycle":"true"' in body


@pytest.mark.timeout(90)
def test_promtool_accepts_sample_config() -> None:
    code, output = promtool(SAMPLE_CONFIG)
    assert code == 0, output
    assert "SUCCESS" in output


@pytest.mark.timeout(90)
def test_promtool_rejects_broken_config() -> None:
    code, output = promtool(BROKEN_CONFIG)
    assert code != 0, output
    assert "FAILED" in output
