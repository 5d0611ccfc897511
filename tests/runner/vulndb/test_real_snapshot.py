"""The vendored PyPA snapshot, converted, read by the real safety 3.7.0 — offline.

The database is built once for the module; safety runs three times (inside the ranges, exactly
at the `fixed` versions, past every range), each with a requirements file of pinned versions.
safety runs in a new network namespace when the machine allows it (`unshare -n`), so these tests
prove it needs no network; HOME points into the test's directory so nothing is left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess  # noqa: S404 - the point is to run the real safety
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.vulndb import INSECURE_FULL, BuildRequest, Metadata, build, open_database
from tests.runner.vulndb.conftest import SNAPSHOT, SNAPSHOT_SHA256

pytestmark = pytest.mark.timeout(120)

# Pinned inside known ranges of the snapshot -> the advisories each must produce (and no other).
INSIDE = {
    "requests==2.2.0": {"PYSEC-2014-13", "PYSEC-2014-14", "PYSEC-2015-17", "PYSEC-2018-28"},
    "jinja2==2.11.2": {"PYSEC-2021-66"},  # <2.11.3
    "py==1.11.0": {"PYSEC-2022-42969"},  # last_affected 1.11.0 -> <=1.11.0
    "gratient==0.5": {"PYSEC-2024-1"},  # an explicit `versions` list, no range -> ==0.5
    "urllib3==1.26.16": {"PYSEC-2023-192", "PYSEC-2023-212"},  # second interval of one range
    "redis==4.6.0": set(),  # only the withdrawn PYSEC-2023-73 (introduced 0, open) covers it
}
# Exactly at a `fixed` version: the advisories it fixes must be gone, later ones stay.
AT_FIXED = {
    "requests==2.3.0": {"PYSEC-2015-17", "PYSEC-2018-28", "PYSEC-2023-74"},  # 2014-13/14 fixed
    "jinja2==2.11.3": set(),
    "urllib3==1.26.18": set(),
}
# Past every range: nothing at all, exit 0.
OUTSIDE = ["requests==2.31.0", "py==1.11.1", "gratient==0.5.1", "urllib3==2.0.7"]

WITHDRAWN = {  # every entry the snapshot marks `withdrawn`
    "PYSEC-2019-144", "PYSEC-2020-221", "PYSEC-2021-125", "PYSEC-2021-13", "PYSEC-2022-15",
    "PYSEC-2022-43055", "PYSEC-2022-43059", "PYSEC-2023-101", "PYSEC-2023-141", "PYSEC-2023-73",
}


@dataclass(frozen=True)
class SafetyRun:
    exit_code: int
    report: dict[str, Any]
    seconds: float

    def findings(self) -> dict[str, set[str]]:
        """{"package==version": {ids}} from the saved JSON report."""
        found: dict[str, set[str]] = {}
        for vuln in self.report["vulnerabilities"]:
            key = f"{vuln['package_name']}=={vuln['analyzed_version']}"
            found.setdefault(key, set()).add(vuln["vulnerability_id"])
        return found


@dataclass(frozen=True)
class Database:
    path: Path
    metadata: Metadata
    build_seconds: float


def _safety() -> str:
    beside = Path(sys.executable).parent / "safety"
    found = str(beside) if beside.exists() else shutil.which("safety")
    if not found:
        pytest.fail("safety is not installed in this environment: run `make deps`")
    return found


def _offline_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    assert hashlib.sha256(SNAPSHOT.read_bytes()).hexdigest() == SNAPSHOT_SHA256
    out = tmp_path_factory.mktemp("vulndb")
    started = time.monotonic()
    metadata = build(BuildRequest((SNAPSHOT,), out))
    return Database(out, metadata, time.monotonic() - started)


def run_safety(database: Database, work: Path, pins: list[str]) -> SafetyRun:
    work.mkdir(parents=True, exist_ok=True)
    reqs, report = work / "requirements.txt", work / "safety.json"
    reqs.write_text("\n".join(pins) + "\n")
    env = {**os.environ, "HOME": str(work)}
    command = [*_offline_prefix(), _safety(), "check", "--db", str(database.path), "-r", str(reqs),
               "--output", "json", "--save-json", str(report)]
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        command, capture_output=True, text=True, env=env, timeout=90
    )
    seconds = time.monotonic() - started
    assert report.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    return SafetyRun(done.returncode, json.loads(report.read_text()), seconds)


@pytest.fixture(scope="module")
def inside(database: Database, tmp_path_factory: pytest.TempPathFactory) -> SafetyRun:
    return run_safety(database, tmp_path_factory.mktemp("inside"), list(INSIDE))


@pytest.fixture(scope="module")
def at_fixed(database: Database, tmp_path_factory: pytest.TempPathFactory) -> SafetyRun:
    return run_safety(database, tmp_path_factory.mktemp("at-fixed"), list(AT_FIXED))


@pytest.fixture(scope="module")
def outside(database: Database, tmp_path_factory: pytest.TempPathFactory) -> SafetyRun:
    return run_safety(database, tmp_path_factory.mktemp("outside"), OUTSIDE)


def test_snapshot_converts_with_the_expected_counts(database: Database) -> None:
    meta = database.metadata
    assert meta.source_sha256 == SNAPSHOT_SHA256
    assert meta.source_date == "2024-10-10"
    assert (meta.advisories, meta.packages) == (2649, 658)
    assert meta.skipped["withdrawn"] == 10
    assert meta.skipped["git_ranges"] == 1391
    print(f"\nbuild {database.build_seconds:.2f}s: {meta.advisories} advisories, "
          f"{meta.packages} packages, skipped {meta.skipped}")


def test_withdrawn_entries_are_absent(database: Database) -> None:
    full = json.loads((database.path / INSECURE_FULL).read_text())
    ids = {i["id"] for entries in full["vulnerable_packages"].values() for e in entries
           for i in e["ids"] if i["type"] == "pyup"}
    assert len(ids) == 2649
    assert ids.isdisjoint(WITHDRAWN)


def test_versions_inside_ranges_are_reported_each_advisory_separately(inside: SafetyRun) -> None:
    assert inside.exit_code == 64  # safety's "vulnerabilities found"
    expected = {pin: ids for pin, ids in INSIDE.items() if ids}
    assert inside.findings() == expected
    assert inside.report["report_meta"]["vulnerabilities_found"] == sum(map(len, expected.values()))
    print(f"\nsafety (inside) {inside.seconds:.2f}s, exit {inside.exit_code}")


def test_findings_carry_their_own_id_and_aliases(inside: SafetyRun, database: Database) -> None:
    by_id = {v["vulnerability_id"]: v for v in inside.report["vulnerabilities"]}
    opened = open_database(database.path)  # as the security stage reads it
    requests_2014_13 = by_id["PYSEC-2014-13"]
    assert requests_2014_13["CVE"] == "CVE-2014-1829"
    assert requests_2014_13["vulnerable_spec"] == ["<2.3.0"]
    assert requests_2014_13["more_info_url"] == "https://osv.dev/vulnerability/PYSEC-2014-13"
    assert requests_2014_13["resources"] == [
        "https://osv.dev/vulnerability/CVE-2014-1829",
        "https://osv.dev/vulnerability/GHSA-cfj3-7x9c-4p3h",
    ]
    assert opened.aliases_of(requests_2014_13["package_name"], "PYSEC-2014-13") == (
        "CVE-2014-1829", "GHSA-cfj3-7x9c-4p3h")
    assert by_id["PYSEC-2014-14"]["CVE"] == "CVE-2014-1830"  # same range, its own advisory
    jinja = by_id["PYSEC-2021-66"]
    assert jinja["CVE"] == "CVE-2020-28493"
    assert opened.aliases_of(jinja["package_name"], "PYSEC-2021-66") == (
        "CVE-2020-28493", "GHSA-g3rq-g295-4j3m", "SNYK-PYTHON-JINJA2-1012994")
    for vuln in inside.report["vulnerabilities"]:  # every finding: an id and its alias links
        assert vuln["vulnerability_id"].startswith("PYSEC-")
        links = [f"https://osv.dev/vulnerability/{a}" for a in
                 opened.aliases_of(vuln["package_name"], vuln["vulnerability_id"])]
        assert vuln["resources"] == links


def test_the_fixed_version_is_not_reported(at_fixed: SafetyRun) -> None:
    assert at_fixed.exit_code == 64
    assert at_fixed.findings() == {pin: ids for pin, ids in AT_FIXED.items() if ids}


def test_versions_past_every_range_give_nothing_and_exit_0(outside: SafetyRun) -> None:
    assert outside.report["vulnerabilities"] == []
    assert outside.exit_code == 0
    assert outside.report["report_meta"]["packages_found"] == len(OUTSIDE)
