"""The monitoring config, rules and rule unit tests pass promtool, in the project's own image.

And promtool really is a gate: a broken rule file fails `check rules`, a unit test that expects
the wrong alert fails `test rules`.
"""

from __future__ import annotations

import pytest

from tests.monitoring.conftest import MONITORING, WORKDIR, Tool

pytestmark = [pytest.mark.docker, pytest.mark.timeout(180)]

UNIT_TESTS = sorted(p.name for p in (MONITORING / "tests").glob("*.yml"))


def test_promtool_check_config(promtool: Tool) -> None:
    outcome = promtool("check", "config", f"{WORKDIR}/prometheus.yml")
    assert outcome.ok, outcome.output
    assert "SUCCESS" in outcome.output
    # check config also loads the rule files it names
    assert "alert_rules.yml" in outcome.output


def test_promtool_check_rules(promtool: Tool) -> None:
    outcome = promtool("check", "rules", f"{WORKDIR}/alert_rules.yml")
    assert outcome.ok, outcome.output
    assert "SUCCESS: 6 rules found" in outcome.output


def test_promtool_test_rules(promtool: Tool) -> None:
    assert UNIT_TESTS, "no promtool unit tests in monitoring/tests"
    outcome = promtool("test", "rules", *(f"{WORKDIR}/tests/{name}" for name in UNIT_TESTS))
    assert outcome.ok, outcome.output
    assert outcome.output.count("SUCCESS") == len(UNIT_TESTS), outcome.output


# case -> (rule file, what promtool must say about it)
BROKEN_RULES = {
    "bad expression": ("""\
groups:
  - name: broken
    rules:
      - alert: AppDown
        expr: up{job="app" == 0
        labels: {severity: critical}
""", "could not parse expression"),
    "unknown field": ("""\
groups:
  - name: broken
    rules:
      - alert: AppDown
        expr: up == 0
        fore: 10s
""", "field fore not found"),
    "bad template": ("""\
groups:
  - name: broken
    rules:
      - alert: AppDown
        expr: up == 0
        annotations:
          summary: "{{ $labels.instance "
""", "unclosed action"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_RULES))
def test_a_broken_rule_file_fails_check_rules(promtool: Tool, case: str) -> None:
    content, reason = BROKEN_RULES[case]
    path = promtool.put(f"broken/{case.replace(' ', '-')}.yml", content)
    outcome = promtool("check", "rules", path)
    assert not outcome.ok, outcome.output
    assert "FAILED" in outcome.output
    assert reason in outcome.output


WRONG_EXPECTATION = """\
rule_files:
  - ../alert_rules.yml
evaluation_interval: 2s
tests:
  - interval: 2s
    input_series:
      - series: 'up{job="app", instance="app:8000"}'
        values: '1 1 1 0x20'
    alert_rule_test:
      - eval_time: 18s
        alertname: AppDown
        exp_alerts:
          - exp_labels: {severity: warning, job: app, instance: "app:8000"}
"""

EXPECTS_SILENCE_WHILE_IT_FIRES = """\
rule_files:
  - ../alert_rules.yml
evaluation_interval: 2s
tests:
  - interval: 2s
    input_series:
      - series: 'pg_up{job="postgres-exporter", instance="postgres-exporter:9187"}'
        values: '0x20'
      - series: 'up{job="postgres-exporter", instance="postgres-exporter:9187"}'
        values: '1x20'
    alert_rule_test:
      - eval_time: 30s
        alertname: PostgresDown
        exp_alerts: []
"""


@pytest.mark.parametrize(
    ("name", "content", "reasons"),
    [
        ("wrong-labels.yml", WRONG_EXPECTATION, ['severity="warning"', 'severity="critical"']),
        ("wrong-silence.yml", EXPECTS_SILENCE_WHILE_IT_FIRES,
         ["exp:[]", 'alertname="PostgresDown"']),
    ],
)
def test_a_unit_test_expecting_the_wrong_alert_fails(
    promtool: Tool, name: str, content: str, reasons: list[str]
) -> None:
    # beside the real unit tests, so `../alert_rules.yml` is the real rule file
    path = promtool.put(f"tests-negative/{name}", content)
    outcome = promtool("test", "rules", path)
    assert not outcome.ok, outcome.output
    assert "FAILED" in outcome.output
    for reason in reasons:  # promtool shows what was expected and what it got
        assert reason in outcome.output
