"""The one reader of a database DIR (open_database): what the security stage gets, and every
way a database can be unusable, each named with what to do."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from finsig_runner.core.errors import ExitCode
from finsig_runner.vulndb import (
    INSECURE,
    INSECURE_FULL,
    METADATA,
    BuildRequest,
    VulnDbError,
    build,
    open_database,
)
from tests.runner.vulndb.conftest import eco, osv_entry, write_osv_tree

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    entries = [osv_entry("PYSEC-2020-1", "Demo_Pkg", [eco(("introduced", "0"), ("fixed", "1.2"))],
                         aliases=["CVE-2020-0001", "GHSA-aaaa-bbbb-cccc"])]
    out = tmp_path / "db"
    build(BuildRequest((write_osv_tree(tmp_path / "osv", entries),), out,
                       source_date="2024-10-10", label="x/y@123 (OSV)"))
    return out


def problem(path: Path) -> str:
    with pytest.raises(VulnDbError) as info:
        open_database(path)
    assert info.value.exit_code is ExitCode.FINDINGS
    return str(info.value)


def test_a_built_database_opens_with_its_source_date_and_aliases(db: Path) -> None:
    opened = open_database(db)
    assert opened.metadata.source == "x/y@123 (OSV)"
    assert opened.source_date == date(2024, 10, 10)
    assert opened.age_days(date(2024, 11, 1)) == 22
    # safety may name the package as the lock writes it: looked up by its normalised name
    assert opened.aliases_of("Demo_Pkg", "PYSEC-2020-1") == ("CVE-2020-0001",
                                                             "GHSA-aaaa-bbbb-cccc")
    assert opened.aliases_of("demo-pkg", "PYSEC-0000-0") == ()


def test_a_missing_directory_says_how_to_build_one(tmp_path: Path) -> None:
    assert "does not exist" in problem(tmp_path / "absent")
    assert "make vulndb" in problem(tmp_path / "absent")


def test_a_file_changed_after_the_build_is_refused(db: Path) -> None:
    short = db / INSECURE
    document = json.loads(short.read_text())
    document["vulnerable_packages"]["demo-pkg"] = ["<9"]
    short.write_text(json.dumps(document))
    assert f"{INSECURE}: sha256" in problem(db)


def test_an_old_schema_is_named_before_the_hash(db: Path) -> None:
    (db / INSECURE_FULL).write_text(json.dumps({"meta": {"schema_version": 1}}))
    assert "schema_version 1, safety 3.7.0 reads 2.0.0" in problem(db)


def test_unreadable_metadata_or_file(db: Path) -> None:
    (db / INSECURE_FULL).write_text("{not json")
    assert f"{INSECURE_FULL}: unreadable" in problem(db)
    meta = json.loads((db / METADATA).read_text())
    (db / METADATA).write_text(json.dumps({**meta, "source_date": "10/10/2024"}))
    assert "source_date '10/10/2024' is not YYYY-MM-DD" in problem(db)
    del meta["files"]
    (db / METADATA).write_text(json.dumps(meta))
    assert "missing key 'files'" in problem(db)
