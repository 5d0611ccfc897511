"""`[tool.finsig-runner.staging]`: typed settings, and a bad value named by its key (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finsig_runner.cli import main as cli
from finsig_runner.core.config import Fault, Probe, Scrape, SmokeRequest, StagingSettings
from finsig_runner.core.config_loader import load, to_json
from finsig_runner.core.errors import ConfigError, ExitCode

pytestmark = pytest.mark.timeout(30)

TABLE = """
[tool.finsig-runner.staging]
ready = [{ service = "web", port = 8080, path = "/health" }, { service = "db" }]
scrape = { metric = "web_requests_total", labels = 'job="web"' }

[[tool.finsig-runner.staging.smoke]]
name = "hello"
service = "web"
port = 8080
method = "POST"
path = "/echo"
body = { greeting = "hi" }
expect = { greeting = "hi", n = 1.5 }
tolerance = 0.01

[[tool.finsig-runner.staging.faults]]
stop = "db"
alert = "DbDown"
recovery = "recovered"
while_down = [{ service = "web", port = 8080, path = "/health", status = 503 }]
"""


def _project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n{text}\n")
    return tmp_path


def test_the_table_becomes_nested_frozen_settings(tmp_path: Path) -> None:
    settings = load(_project(tmp_path, TABLE), {}).staging
    assert settings == StagingSettings(
        ready=(Probe("web", 8080, "/health"), Probe("db")),
        scrape=Scrape("web_requests_total", 'job="web"'),
        smoke=(SmokeRequest("hello", "web", 8080, "/echo", method="POST",
                            body={"greeting": "hi"}, expect={"greeting": "hi", "n": 1.5},
                            tolerance=0.01),),
        faults=(Fault("db", "DbDown", "recovered", (Probe("web", 8080, "/health", 503),)),),
    )
    assert settings.ready[1].healthcheck_only and not settings.ready[0].healthcheck_only
    with pytest.raises(AttributeError):
        settings.ready[0].port = 1  # type: ignore[misc]


def test_no_table_asserts_nothing_project_specific(tmp_path: Path) -> None:
    assert load(_project(tmp_path, "[tool.finsig-runner]\n"), {}).staging == StagingSettings()


def test_the_table_can_come_from_the_environment_as_json(tmp_path: Path) -> None:
    value = json.dumps({"ready": [{"service": "web", "port": 80, "path": "/"}]})
    cfg = load(tmp_path, {"FINSIG_RUNNER_STAGING": value})
    assert cfg.staging.ready == (Probe("web", 80, "/"),)
    assert to_json(cfg)["staging"]["ready"] == [
        {"service": "web", "port": 80, "path": "/", "status": 200}]


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ("[tool.finsig-runner.staging]\ncolour = 1", "staging", "colour"),
        ('[tool.finsig-runner.staging]\nready = [{ service = "web", port = 0, path = "/" }]',
         "staging.ready[0].port", "minimum"),
        ('[tool.finsig-runner.staging]\nready = [{ service = "web", port = 80, path = "h" }]',
         "staging.ready[0].path", "does not match"),
        ('[tool.finsig-runner.staging]\nready = [{ service = "web", port = 80 }]',
         "staging.ready[0]", "path"),
        ('[tool.finsig-runner.staging]\nscrape = { labels = "x" }', "staging.scrape", "metric"),
        ('[tool.finsig-runner.staging]\nscrape = { metric = "no-dash" }',
         "staging.scrape.metric", "does not match"),
        ('[[tool.finsig-runner.staging.smoke]]\nname = "a"\nservice = "w"\nport = 1\n'
         'path = "/"\nmethod = "FETCH"', "staging.smoke[0].method", "FETCH"),
        ('[[tool.finsig-runner.staging.smoke]]\nname = "a b"\nservice = "w"\nport = 1\n'
         'path = "/"', "staging.smoke[0].name", "does not match"),
        ('[[tool.finsig-runner.staging.smoke]]\nname = "a"\nservice = "w"\nport = 1\n'
         'path = "/"\nbody = 1\nbody_file = "b.json"', "staging.smoke[0]", "not both"),
        ('[[tool.finsig-runner.staging.smoke]]\nname = "a"\nservice = "w"\nport = 1\n'
         'path = "/"\n[[tool.finsig-runner.staging.smoke]]\nname = "a"\nservice = "w"\n'
         'port = 2\npath = "/"', "staging.smoke[1].name", "twice"),
        ('[[tool.finsig-runner.staging.faults]]\nstop = "db"\nalert = "Down"\n'
         'recovery = "maybe"', "staging.faults[0].recovery", "maybe"),
        ('[[tool.finsig-runner.staging.faults]]\nstop = "db"\nalert = "Down"\n'
         'while_down = [{ service = "web" }]', "staging.faults[0].while_down[0]", "port"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, table: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_project(tmp_path, table), {})
    assert caught.value.key == key
    assert key in str(caught.value) and words in str(caught.value)
    assert "pyproject.toml" in str(caught.value)
    assert caught.value.exit_code == ExitCode.CONFIG


def test_a_bad_table_stops_the_command_line_with_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, '[tool.finsig-runner.staging]\nready = [{ service = "web", port = 99999, '
                       'path = "/" }]')
    assert cli.main(["run", "--workspace", str(tmp_path), "--dry-run"]) == 2
    assert "staging.ready[0].port" in capsys.readouterr().err
