"""The seed's configuration promises, as pyproject sections (flake8's in .flake8) and locks."""

from __future__ import annotations

import configparser
import tomllib

import pytest

from tests.support.ci_files import ROOT

pytestmark = pytest.mark.timeout(30)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
TOOL = PYPROJECT["tool"]


def test_pytest_discovery_junit_and_timestamped_logs() -> None:
    pytest_ini = TOOL["pytest"]["ini_options"]
    assert pytest_ini["testpaths"] == ["tests"]
    assert pytest_ini["python_files"] == ["test_*.py"]
    assert "--strict-markers" in pytest_ini["addopts"]
    assert pytest_ini["timeout"] > 0
    assert pytest_ini["junit_family"] == "xunit2"
    for prefix in ("log", "log_cli", "log_file"):
        assert "%(asctime)s" in pytest_ini[f"{prefix}_format"], prefix
        assert pytest_ini[f"{prefix}_date_format"] == "%Y-%m-%dT%H:%M:%S", prefix


def test_coverage() -> None:
    assert TOOL["coverage"]["run"] == {"source": ["finsig"], "branch": True}
    assert TOOL["coverage"]["report"]["show_missing"] is True
    assert TOOL["coverage"]["xml"]["output"] == "reports/coverage.xml"


def test_mypy_strict_with_error_codes_and_the_pydantic_plugin() -> None:
    mypy = TOOL["mypy"]
    assert mypy["strict"] is True
    assert mypy["show_error_codes"] is True
    assert "pydantic.mypy" in mypy["plugins"]
    assert TOOL["pydantic-mypy"]["init_typed"] is True


def test_bandit() -> None:
    assert "tests" in TOOL["bandit"]["exclude_dirs"]


def test_flake8() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / ".flake8", encoding="utf-8")
    assert config["flake8"]["max-line-length"] == "100"


@pytest.mark.parametrize("tier", ["core", "test", "build", "ci", "dev"])
def test_dependency_tiers_are_hash_locked(tier: str) -> None:
    lock = (ROOT / "requirements" / f"{tier}.txt").read_text(encoding="utf-8")
    assert (ROOT / "requirements" / f"{tier}.in").is_file()
    pins = [line for line in lock.splitlines() if line and not line[0].isspace()
            and not line.startswith("#")]
    assert pins
    assert all("==" in pin and pin.rstrip().endswith("\\") for pin in pins), tier
    assert "--index-url" not in lock and "--find-links" not in lock
