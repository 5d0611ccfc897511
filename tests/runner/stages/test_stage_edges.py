"""Stages on projects that lack what they need: SKIPPED with a reason, or ERROR naming the gap."""

from __future__ import annotations

import subprocess  # nosec B404 - makes a bare venv for one test
import sys
from pathlib import Path

import pytest

from finsig_runner.core.model import Status
from finsig_runner.stages.build.stage import BuildStage
from finsig_runner.stages.lint import LintStage
from finsig_runner.stages.tests.stage import TestsStage
from finsig_runner.stages.type_check import TypingStage

from .conftest import Demo
from tests.support.sample_project import (
    REPO,
    WHEELHOUSE,
    context,
    lock_blocks,
    make_project,
    planted,
)

pytestmark = pytest.mark.timeout(300)


def test_a_project_without_tests_is_skipped(demo: Demo) -> None:
    (demo.root / "notests").mkdir(exist_ok=True)
    cfg = demo.config(pytest_args=("notests",))
    result = TestsStage().run(context(demo.root, "tests", cfg, demo.bin))
    assert result.status is Status.SKIPPED and "no tests" in result.reason


def test_without_pytest_cov_in_the_test_lock_tests_is_an_error(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # nosec
    lock = tmp_path / "test.txt"
    no_cov = ("pytest", "iniconfig", "packaging", "pluggy", "pygments")
    lock.write_text(lock_blocks(REPO / "requirements/test.txt", no_cov))
    subprocess.run(  # nosec B603 - fixed argv
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
         "--no-index", "--find-links", str(WHEELHOUSE), "--require-hashes", "-r", str(lock)],
        check=True, env={"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
    )
    root = tmp_path / "p"
    root.mkdir()
    result = TestsStage().run(context(root, "tests", project_bin=venv / "bin"))
    assert result.status is Status.ERROR
    assert "pytest-cov not in the project environment" in result.reason
    assert "requirements/test.txt" in result.reason


def test_no_sources_skips_lint_and_typing(demo: Demo) -> None:
    cfg = demo.config(sources=("nowhere",))
    for stage in (LintStage(), TypingStage()):
        result = stage.run(context(demo.root, stage.name, cfg, demo.bin))
        assert result.status is Status.SKIPPED and "nowhere" in result.reason


def test_build_without_git_uses_the_documented_fallback_epoch(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)  # nosec B603 B607
    result = BuildStage().run(context(root, "build"))
    assert result.status is Status.PASSED, result.reason
    origins = ("fallback: 1980-01-01 (no git history)", "environment: SOURCE_DATE_EPOCH")
    assert result.summary["epoch_origin"] in origins


def test_a_collection_error_fails_tests_naming_module_and_cause(demo: Demo) -> None:
    with planted(demo.root, {"tests/test_import.py": "import not_a_module  # noqa: F401\n"}):
        result = TestsStage().run(context(demo.root, "tests", demo.config(), demo.bin))
    assert result.status is Status.FAILED, result.reason
    assert "tests.test_import" in result.reason
    assert "No module named 'not_a_module'" in result.reason
