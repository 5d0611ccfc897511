"""Configuration: pyproject table < environment < --set, checked against the JSON schema."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.config_loader import load, schema
from finsig_runner.core.errors import ConfigError, ExitCode


def _project(tmp_path: Path, table: str) -> Path:
    text = f"[project]\nname = 'x'\n\n[tool.finsig-runner]\n{table}\n"
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


def test_no_table_gives_defaults(tmp_path: Path) -> None:
    assert load(tmp_path, {}) == RunnerConfig()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load(tmp_path, {}) == RunnerConfig()


def test_schema_knows_every_field_and_nothing_else() -> None:
    assert set(schema()["properties"]) == {f.name for f in dataclasses.fields(RunnerConfig)}


def test_docs_table_lists_every_key_with_its_default() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "runner.md").read_text()
    section = doc.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| ([^|]+) \|", section, re.M))
    assert set(rows) == set(schema()["properties"])
    for key, shown in rows.items():
        default = getattr(RunnerConfig(), key)
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            assert shown.strip(" `") == f"{default:g}", key


def test_pyproject_values_are_typed(tmp_path: Path) -> None:
    cfg = load(_project(tmp_path, 'coverage_min = 70\npytest_args = ["-m", "not pipeline"]'), {})
    assert cfg.coverage_min == 70.0 and isinstance(cfg.coverage_min, float)
    assert cfg.pytest_args == ("-m", "not pipeline")


def test_layering_cli_over_env_over_pyproject(tmp_path: Path) -> None:
    ws = _project(tmp_path, "coverage_min = 70\ntool_timeout = 100")
    env = {"FINSIG_RUNNER_COVERAGE_MIN": "85", "FINSIG_RUNNER_TOOL_TIMEOUT": "200",
           "FINSIG_RUNNER_PYTEST_ARGS": "-m 'not pipeline' -x",
           "FINSIG_RUNNER_NETWORK": "not-a-config-key"}
    cfg = load(ws, env, ["coverage_min=90"])
    assert cfg.coverage_min == 90.0  # --set wins
    assert cfg.tool_timeout == 200  # environment over pyproject
    assert cfg.pytest_args == ("-m", "not pipeline", "-x")
    assert load(ws, {"FINSIG_RUNNER_SOURCES": '["src", "lib"]'}).sources == ("src", "lib")
    assert load(ws, {"FINSIG_RUNNER_FAIL_ON_VULNERABLE": "no"}).fail_on_vulnerable is False


@pytest.mark.parametrize(
    ("table", "env", "sets", "key"),
    [
        ("colour = 'red'", {}, [], "colour"),
        ("coverage_min = 'high'", {}, [], "coverage_min"),
        ("coverage_min = 120", {}, [], "coverage_min"),
        ("bandit_fail_severity = 'urgent'", {}, [], "bandit_fail_severity"),
        ("pytest_args = '-x'", {}, [], "pytest_args"),
        ("", {"FINSIG_RUNNER_TOOL_TIMEOUT": "soon"}, [], "tool_timeout"),
        ("", {}, ["no_such_key=1"], "no_such_key"),
        ("", {}, ["keep_previous=-1"], "keep_previous"),
    ],
)
def test_bad_configuration_names_the_key(
    tmp_path: Path, table: str, env: dict[str, str], sets: list[str], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_project(tmp_path, table), env, sets)
    assert caught.value.key == key
    assert key in str(caught.value)
    assert caught.value.exit_code == ExitCode.CONFIG


def test_malformed_toml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.finsig-runner\n")
    with pytest.raises(ConfigError, match="TOML"):
        load(tmp_path, {})
