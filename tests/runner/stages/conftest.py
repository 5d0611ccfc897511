"""Fixtures shared by the stage integration tests: one fixture project and one project environment
for the whole package (made once, ~7 s), and the hand-made vulnerability database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from finsig_runner.stages import project_env
from finsig_runner.core.config import RunnerConfig

from tests.support.sample_project import (
    WHEELHOUSE,
    config,
    context,
    make_project,
    make_vulndb,
)


@dataclass(frozen=True)
class Demo:
    root: Path
    bin: Path
    vulndb: Path

    def config(self, **overrides: object) -> RunnerConfig:
        return config(**{"vulndb": str(self.vulndb), **overrides})


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not any(WHEELHOUSE.glob("pytest-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE} (run `make wheelhouse`)")
    root = make_project(tmp_path_factory.mktemp("demo"))
    vulndb = make_vulndb(tmp_path_factory.mktemp("vulndb"))
    bin_dir = project_env.prepare(context(root, "project-env"))
    yield Demo(root, bin_dir, vulndb)
