"""The project environment: made offline from the wheelhouse, reused, and precise when it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from finsig_runner.stages import project_env
from finsig_runner.core.errors import MissingRequirementError, ProjectEnvError

from .conftest import Demo
from tests.support.sample_project import config, context, make_project, planted

pytestmark = pytest.mark.timeout(300)


def test_env_has_the_locks_the_project_and_mypy(demo: Demo) -> None:
    site = next((demo.bin.parent / "lib").glob("python3*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert {"pytest", "pytest_cov", "coverage", "typing_extensions", "mypy", "demo"} <= installed
    assert not (demo.bin / "pip").exists()  # driven by the runner's pip, never from the env itself
    assert demo.bin == demo.root / ".finsig-runner" / "venv" / "bin"


def test_env_is_reused_while_its_inputs_do_not_change(demo: Demo) -> None:
    ctx = context(demo.root, "project-env")
    log_size = ctx.log_path.stat().st_size
    assert project_env.prepare(ctx) == demo.bin
    assert ctx.log_path.stat().st_size == log_size  # no tool ran


def test_a_wheel_missing_from_the_wheelhouse_names_the_requirement(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    fake = "idna==3.6 \\\n    --hash=sha256:" + "0" * 64 + "\n"
    with planted(root, {"requirements/core.txt": fake}):
        with pytest.raises(MissingRequirementError) as caught:
            project_env.prepare(context(root, "project-env"))
    assert caught.value.requirement == "idna==3.6"
    assert "idna==3.6" in str(caught.value)


def test_a_missing_wheelhouse_is_an_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    cfg = config(wheelhouse=str(tmp_path / "nowhere"))
    with pytest.raises(ProjectEnvError, match="nowhere"):
        project_env.prepare(context(root, "project-env", cfg))
