"""Builders for the small projects the stage integration tests run real tools on.

A fixture project is a tiny hatchling package (`demo`, src layout) with one test module, its own
hash-pinned locks cut from the repository's real locks (so every install stays offline against the
real wheelhouse), a git history with a fixed commit time, and helpers to plant one defect at a
time and take it out again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # nosec B404 - tests drive git on their own fixture projects
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.context import StageContext
from finsig_runner.vulndb import converter_version
from finsig_runner.vulndb.metadata import make_metadata, write_metadata
from finsig_runner.vulndb.model import Advisory, Alias, Converted, SourceInfo
from finsig_runner.vulndb.writer import write_database

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / "wheelhouse"
COMMIT_DATE = "2024-01-02T03:04:05+00:00"
COMMIT_EPOCH = 1704164645
TODAY = date(2024, 11, 1)  # the injected clock: 22 days after the test database's source date
HAS_GIT = shutil.which("git") is not None

RUNTIME = ("typing-extensions",)
TEST_TOOLS = ("pytest", "pytest-cov", "coverage", "iniconfig", "packaging", "pluggy", "pygments")

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "demo"
version = "0.1.0"
description = "A fixture project for the finsig-runner stage tests."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["typing-extensions>=4"]

[tool.hatch.build.targets.wheel]
packages = ["src/demo"]

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.mypy]
strict = true
"""

MODULE = '''\
"""A tiny module with full test coverage."""

from typing_extensions import Literal

Sign = Literal[-1, 0, 1]


def add(a: int, b: int) -> int:
    return a + b


def sign(x: int) -> Sign:
    if x < 0:
        return -1
    if x == 0:
        return 0
    return 1
'''

TESTS = '''\
from demo import add, sign


def test_add() -> None:
    assert add(2, 3) == 5


def test_sign() -> None:
    assert [sign(-4), sign(0), sign(9)] == [-1, 0, 1]
'''

# A build hook that writes the build time into the wheel: the same sources never build the same.
STAMP_HOOK = '''\
import time
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class StampHook(BuildHookInterface):
    def initialize(self, version, build_data):
        stamp = Path(self.root) / "build-stamp.txt"
        stamp.write_text(str(time.time_ns()))
        build_data["force_include"][str(stamp)] = "demo/build-stamp.txt"
'''
STAMP_CONFIG = "\n[tool.hatch.build.targets.wheel.hooks.custom]\npath = \"hatch_build.py\"\n"


def lock_blocks(lock: Path, names: tuple[str, ...]) -> str:
    """The `name==version \\ --hash=...` blocks for `names`, cut from a pip-compile lock."""
    wanted = {_canon(n) for n in names}
    out: list[str] = []
    keep = False
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            keep = _canon(re.split(r"[=<>!~\[ ;]", line, maxsplit=1)[0]) in wanted
        if keep and not line.lstrip().startswith("#"):
            out.append(line)
    found = {_canon(re.split(r"==", ln)[0]) for ln in out if not ln[0].isspace()}
    missing = wanted - found
    if missing:
        raise LookupError(f"{lock} pins none of {sorted(missing)}")
    return "\n".join(out) + "\n"


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def git(root: Path, *args: str, date: str = COMMIT_DATE) -> str:
    """git in `root` as the fixture's author; commits at `date` (ISO 8601 or "<epoch> +0000")."""
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "fixture",
        "GIT_AUTHOR_EMAIL": "fixture@example.invalid",
        "GIT_COMMITTER_NAME": "fixture",
        "GIT_COMMITTER_EMAIL": "fixture@example.invalid",
    }
    done = subprocess.run(  # nosec B603 B607 - fixed git argv on a test directory
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    )
    return done.stdout


def make_project(root: Path) -> Path:
    """Write the clean fixture project under `root` and commit it."""
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": "# demo\n\nA fixture project.\n",
        ".gitignore": ".finsig-runner/\nreports/\nartifacts/\n__pycache__/\n",
        "src/demo/__init__.py": MODULE,
        "tests/test_demo.py": TESTS,
        "requirements/core.txt": lock_blocks(REPO / "requirements/core.txt", RUNTIME),
        "requirements/test.txt": lock_blocks(REPO / "requirements/test.txt", TEST_TOOLS),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if HAS_GIT:  # without git the build stage takes its documented fallback epoch
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "fixture")
    return root


def config(**overrides: object) -> RunnerConfig:
    base = RunnerConfig(wheelhouse=str(WHEELHOUSE), vulndb="vulndb", coverage_min=90.0)
    return replace(base, **overrides)  # type: ignore[arg-type]


def context(
    root: Path, stage: str, cfg: RunnerConfig | None = None, project_bin: Path | None = None
) -> StageContext:
    return StageContext.create(root, cfg or config(), stage, "test-run", project_bin=project_bin)


@contextmanager
def planted(root: Path, files: Mapping[str, str | None]) -> Iterator[None]:
    """Write (or, with None, delete) files for one test; put everything back afterwards."""
    saved: dict[Path, str | None] = {}
    for name, text in files.items():
        path = root / name
        saved[path] = path.read_text(encoding="utf-8") if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")
    try:
        yield
    finally:
        for path, old in saved.items():
            if old is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(old, encoding="utf-8")


# The vulnerability database the stage tests use, written by the runner's own vulndb writer (the
# real format, with the files' sha256 in finsig-vulndb.json): one real advisory from the vendored
# PyPA snapshot (vulns/idna/PYSEC-2024-60.yaml: ECOSYSTEM range introduced 0.1, fixed 3.7; alias
# CVE-2024-3651), and one for a package no fixture pins.
ADVISORIES = (
    Advisory(
        id="PYSEC-2024-60",
        package="idna",
        specs=(">=0.1,<3.7",),
        aliases=(Alias("cve", "CVE-2024-3651"),),
        advisory="idna.encode() is quadratic on crafted input (denial of service).",
        published="2024-07-07",
        fixed_versions=("3.7",),
        more_info_path="/vulnerability/PYSEC-2024-60",
    ),
    Advisory(
        id="PYSEC-0000-1",
        package="nonexistent-fixture-package",
        specs=("<1.0",),
        aliases=(Alias("ghsa", "GHSA-xxxx-xxxx-xxxx"),),
        advisory="never pinned by the fixtures",
        fixed_versions=("1.0",),
        more_info_path="/vulnerability/PYSEC-0000-1",
    ),
)
DB_SOURCE_DATE = "2024-10-10"
DB_SOURCE = SourceInfo(
    kind="osv",
    label="pypa/advisory-database@3ccb612573e2 (test excerpt)",
    path="test-excerpt",
    sha256="0" * 64,
    date=DB_SOURCE_DATE,
    base_domain="https://osv.dev",
)


def make_vulndb(root: Path) -> Path:
    converted = Converted(DB_SOURCE, ADVISORIES, skipped={})
    files = write_database(converted, root)
    write_metadata(make_metadata(converted, files, converter_version(), []), root)
    return root
