"""scripts/vulndb.sh: builds from the vendored snapshot, skips when nothing changed, lint-clean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess  # noqa: S404 - the script is what is tested
import sys
from pathlib import Path

import pytest

from tests.vulndb.conftest import REPO, SNAPSHOT_SHA256

SCRIPT = REPO / "scripts" / "vulndb.sh"
pytestmark = pytest.mark.timeout(120)


def run(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VULNDB_DIR": str(out), "PYTHON": sys.executable,
           "SOURCE_DATE_EPOCH": "1700000000"}
    return subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=100
    )


def test_builds_once_then_skips(tmp_path: Path) -> None:
    out = tmp_path / "vulndb"
    first = run(out=out)
    assert first.returncode == 0, first.stderr
    meta = json.loads((out / "finsig-vulndb.json").read_text())
    assert meta["source"] == "pypa/advisory-database@3ccb612573e2 (OSV)"
    assert meta["source_sha256"] == SNAPSHOT_SHA256
    assert meta["built"] == "2023-11-14T22:13:20Z"
    before = (out / "insecure_full.json").stat().st_mtime_ns
    second = run(out=out)
    assert second.returncode == 0 and "up to date" in second.stdout
    assert (out / "insecure_full.json").stat().st_mtime_ns == before
    (out / ".build-key").write_text("stale\n")  # a changed source or converter -> rebuild
    third = run(out=out)
    assert third.returncode == 0 and "wrote" in third.stdout
    assert not list(tmp_path.glob("vulndb.tmp.*"))


def test_help_and_bad_option(tmp_path: Path) -> None:
    assert "Usage: scripts/vulndb.sh" in run("--help", out=tmp_path).stdout
    assert run("--nope", out=tmp_path).returncode == 2
    failed = run(str(tmp_path / "missing.tar.gz"), out=tmp_path / "db")
    assert failed.returncode == 1 and not (tmp_path / "db").exists()


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck not installed")
def test_shellcheck_clean() -> None:
    done = subprocess.run(  # noqa: S603,S607 - shellcheck from PATH on purpose
        ["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout
