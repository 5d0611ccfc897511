"""scripts/vulndb.sh: builds from the vendored snapshot, skips when nothing changed, lint-clean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess  # noqa: S404 - the script is what is tested
import sys
from pathlib import Path

import pytest

from tests.runner.vulndb.conftest import REPO, SNAPSHOT_SHA256, eco, osv_entry, write_osv_tree

SCRIPT = REPO / "scripts" / "vulndb.sh"
pytestmark = pytest.mark.timeout(120)


def run(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VULNDB_DIR": str(out), "PYTHON": sys.executable,
           "SOURCE_DATE_EPOCH": "1700000000"}
    return subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=100
    )


def test_builds_the_vendored_snapshot_once_then_skips(tmp_path: Path) -> None:
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
    assert not list(tmp_path.glob("vulndb.tmp.*"))


def test_a_changed_source_or_converter_rebuilds(tmp_path: Path) -> None:
    entry = osv_entry("PYSEC-2020-1", "demo", [eco(("introduced", "0"), ("fixed", "1.2"))])
    tree = write_osv_tree(tmp_path / "advisory-database", [entry])
    out = tmp_path / "vulndb"
    assert "wrote" in run(str(tree), out=out).stdout
    assert "up to date" in run(str(tree), out=out).stdout
    write_osv_tree(tree, [{**entry, "id": "PYSEC-2020-2"}])  # one more advisory
    assert "wrote" in run(str(tree), out=out).stdout
    assert json.loads((out / "finsig-vulndb.json").read_text())["advisories"] == 2
    (out / ".build-key").write_text("converter 0.9\n")  # as after a converter change
    assert "wrote" in run(str(tree), out=out).stdout


def test_help_and_bad_option(tmp_path: Path) -> None:
    assert "Usage: scripts/vulndb.sh" in run("--help", out=tmp_path).stdout
    assert run("--nope", out=tmp_path).returncode == 2
    failed = run(str(tmp_path / "missing.tar.gz"), out=tmp_path / "db")
    assert failed.returncode == 1 and not (tmp_path / "db").exists()


def test_shellcheck_clean() -> None:
    assert shutil.which("shellcheck"), "shellcheck is missing: run `make deps`"
    done = subprocess.run(  # noqa: S603,S607 - shellcheck from PATH on purpose
        ["shellcheck", "-x", str(SCRIPT)], capture_output=True, text=True, timeout=60,
        cwd=REPO,  # -x follows `source scripts/lib/*.sh`, paths from the repository's top
    )
    assert done.returncode == 0, done.stdout
