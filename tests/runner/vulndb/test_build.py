"""The build end to end on tiny hand-made sources: files, metadata, determinism, CLI."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from finsig_runner.vulndb import (
    INSECURE,
    INSECURE_FULL,
    METADATA,
    BuildRequest,
    VulnDbError,
    build,
    open_database,
    read_metadata,
)
from finsig_runner.vulndb.__main__ import main
from tests.runner.vulndb.conftest import (
    eco,
    osv_entry,
    safety_db_full,
    write_osv_tree,
    write_safety_db_wheel,
)

pytestmark = pytest.mark.timeout(60)

ENTRIES = [
    osv_entry("PYSEC-2020-1", "Demo_Pkg", [eco(("introduced", "0"), ("fixed", "1.2"))],
              aliases=["CVE-2020-0001", "GHSA-aaaa-bbbb-cccc"], modified="2024-03-04T00:00:00Z"),
    osv_entry("PYSEC-2020-2", "demo-pkg", [eco(("introduced", "0"), ("fixed", "1.2"))],
              aliases=["CVE-2020-0002"]),
    osv_entry("PYSEC-2021-3", "other", [eco(("introduced", "2.0"), ("last_affected", "2.1"))]),
    osv_entry("PYSEC-2021-4", "other", [eco(("introduced", "0"))],
              withdrawn="2023-01-01T00:00:00Z"),
]


@pytest.fixture
def osv_tree(tmp_path: Path) -> Path:
    return write_osv_tree(tmp_path / "advisory-database", ENTRIES)


def load(path: Path) -> dict[str, object]:
    loaded = json.loads(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_osv_tree_gives_schema_2_files(osv_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "db"
    meta = build(BuildRequest((osv_tree,), out))
    short, full = load(out / INSECURE), load(out / INSECURE_FULL)
    for document in (short, full):
        assert document["meta"]["schema_version"] == "2.0.0"  # type: ignore[index]
    assert short["vulnerable_packages"] == {"demo-pkg": ["<1.2"], "other": [">=2.0,<=2.1"]}
    entries = full["vulnerable_packages"]["demo-pkg"]  # type: ignore[index]
    assert [e["ids"] for e in entries] == [
        [{"type": "pyup", "id": "PYSEC-2020-1"}, {"type": "cve", "id": "CVE-2020-0001"},
         {"type": "ghsa", "id": "GHSA-aaaa-bbbb-cccc"}],
        [{"type": "pyup", "id": "PYSEC-2020-2"}, {"type": "cve", "id": "CVE-2020-0002"}],
    ]
    assert all(e["specs"] == ["<1.2"] for e in entries)
    assert (meta.advisories, meta.packages, meta.skipped) == (3, 2, {"withdrawn": 1})
    assert meta.source_date == "2024-03-04"  # the newest `modified`
    assert meta.source_kind == "osv" and meta.source == "advisory-database (OSV)"
    assert open_database(out).aliases_of("demo-pkg", "PYSEC-2020-1") == (
        "CVE-2020-0001", "GHSA-aaaa-bbbb-cccc")


def test_metadata_keys_and_verification(osv_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "db"
    build(BuildRequest((osv_tree,), out, source_date="2024-10-10", label="x/y@123 (OSV)"))
    raw = load(out / METADATA)
    for key in ("source", "source_sha256", "source_date", "built", "schema_version",
                "advisories", "packages", "skipped", "converter", "files", "licence"):
        assert key in raw, key
    assert raw["source"] == "x/y@123 (OSV)" and raw["source_date"] == "2024-10-10"
    assert read_metadata(out).source == "x/y@123 (OSV)"
    full = out / INSECURE_FULL
    full.write_bytes(full.read_bytes().replace(b"PYSEC-2020-2", b"PYSEC-2020-9"))
    with pytest.raises(VulnDbError, match="sha256"):
        read_metadata(out)
    (out / METADATA).unlink()
    with pytest.raises(VulnDbError, match="missing"):
        read_metadata(out)


def test_same_source_gives_byte_identical_files(
    osv_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    archive = tmp_path / "snapshot.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(osv_tree, arcname="advisory-database")
    outs = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    build(BuildRequest((osv_tree,), outs[0], label="same"))
    build(BuildRequest((osv_tree,), outs[1], label="same"))
    build(BuildRequest((archive,), outs[2], label="same"))
    for name in (INSECURE, INSECURE_FULL, METADATA):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    for name in (INSECURE, INSECURE_FULL):  # archive and tree: same data, same database
        assert (outs[0] / name).read_bytes() == (outs[2] / name).read_bytes(), name
    assert load(outs[0] / METADATA)["built"] == "2023-11-14T22:13:20Z"


def test_safety_db_wheel_is_converted(tmp_path: Path) -> None:
    wheel = write_safety_db_wheel(tmp_path / "safety_db-2021.7.17-py2.py3-none-any.whl",
                                  safety_db_full())
    out = tmp_path / "db"
    meta = build(BuildRequest((wheel,), out))
    assert meta.source == "safety-db 2021.7.17 (schema 1)"
    assert meta.source_kind == "safety-db" and meta.source_date == "2021-07-01"
    assert meta.skipped == {"invalid_ranges": 1, "no_affected_versions": 1}
    full = load(out / INSECURE_FULL)["vulnerable_packages"]
    assert [e["ids"] for e in full["demo-pkg"]] == [  # type: ignore[index]
        [{"type": "pyup", "id": "11111"}, {"type": "cve", "id": "CVE-2020-0001"}],
        [{"type": "pyup", "id": "22222"}],
    ]
    short = load(out / INSECURE)["vulnerable_packages"]
    assert short == {"demo-pkg": ["<0.5", "<1.2", ">=2.0,<2.1"]}


def test_the_freshest_source_wins(osv_tree: Path, tmp_path: Path) -> None:
    safety_dir = tmp_path / "safety-db"
    safety_dir.mkdir()
    (safety_dir / "insecure_full.json").write_text(json.dumps(safety_db_full()))
    out = tmp_path / "db"
    meta = build(BuildRequest((safety_dir, osv_tree), out))
    assert meta.source_kind == "osv"
    assert [c["source_date"] for c in meta.considered] == ["2021-07-01", "2024-03-04"]
    newer = safety_db_full(timestamp=1735689600)  # 2025-01-01
    (safety_dir / "insecure_full.json").write_text(json.dumps(newer))
    assert build(BuildRequest((osv_tree, safety_dir), out)).source_kind == "safety-db"


def test_cli_exit_codes(osv_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "db"
    assert main(["build", "--source", str(osv_tree), "--out", str(out)]) == 0
    assert "3 advisories for 2 packages" in capsys.readouterr().out
    assert main(["show", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["advisories"] == 3
    assert main(["build", "--source", str(tmp_path / "missing"), "--out", str(out)]) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["build", "--source", str(empty), "--out", str(out)]) == 1
    assert "no OSV advisories" in capsys.readouterr().err
    assert main(["build", "--source", str(osv_tree), "--source", str(osv_tree), "--label", "x",
                 "--out", str(out)]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["build", "--source", str(osv_tree), "--out", str(out), "--source-date", "2024-1-1"])
    assert exc.value.code == 2
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("1.0.0+")


@pytest.mark.parametrize("packed", [False, True])
def test_a_clone_is_labelled_with_its_commit(osv_tree: Path, tmp_path: Path, packed: bool) -> None:
    git = osv_tree / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    commit = "3ccb612573e2" + "0" * 28
    if packed:
        (git / "packed-refs").write_text(f"# pack-refs\n{commit} refs/heads/main\n")
    else:
        (git / "refs" / "heads" / "main").write_text(commit + "\n")
    (git / "config").write_text("not an advisory: .git is never read as data\n")
    meta = build(BuildRequest((osv_tree,), tmp_path / "db"))
    assert meta.source == "advisory-database@3ccb612573e2 (OSV)"
    assert meta.advisories == 3
