"""Partial runs (CI jobs with --only) end PARTIAL; `validate --merge` gives the one verdict."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.core import signing
from finsig_runner.core.errors import EvidenceError, UsageError
from finsig_runner.evidence.merge import merge
from finsig_runner.evidence.verify import verify_evidence
from finsig_runner.core.model import Status

from tests.support import evidence_set as es
from tests.support.evidence_forgery import forge_tests_passed

pytestmark = pytest.mark.timeout(120)

DECLARED = {s.name: s.checks for s in es.stages()}


def _doc(root: Path) -> dict[str, Any]:
    path = root / "artifacts" / "artifact-validation.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _jobs(base: Path, key: Path, **status: Status) -> tuple[Path, Path]:
    one = es.workspace(base / "jobs" / "one")
    two = es.workspace(base / "jobs" / "two")
    fakes = es.stages(**status)
    first = es.run(one, fakes, es.config(key), only=["tests", "lint", "validate"])
    second = es.run(two, fakes, es.config(key), only=["security", "build", "validate"])
    for out in (first, second):
        assert out.status == "PARTIAL"
    return one, two


@pytest.fixture
def keys(tmp_path: Path) -> signing.KeyPairFiles:
    return es.make_key(tmp_path / "keys")


def test_a_partial_run_has_no_verdict_and_imports_nothing(tmp_path: Path,
                                                          keys: signing.KeyPairFiles) -> None:
    one, _ = _jobs(tmp_path, keys.private)
    doc = _doc(one)
    assert doc["status"] == "PARTIAL" and doc["verdict"] is None and doc["partial"] is True
    assert [s["name"] for s in doc["stages"]] == ["tests", "lint"]
    events = [json.loads(x) for x in (one / "artifacts" / "ci_cd_events.log").read_text().split()]
    assert not [e for e in events if e["event"] == "import"]  # validate waits, imports nothing
    trusted = signing.load_public_key(keys.public)
    assert verify_evidence(one, trusted, allow_partial=True).failure is None


def test_merge_of_two_partial_runs_gives_one_verdict(tmp_path: Path,
                                                     keys: signing.KeyPairFiles) -> None:
    one, two = _jobs(tmp_path, keys.private)
    written = _merge(tmp_path, [one, two], keys)
    assert written.errors == ()
    doc = _doc(tmp_path)
    assert doc["kind"] == "merge" and doc["status"] == "PASSED" and doc["partial"] is False
    assert [s["name"] for s in doc["stages"]] == ["tests", "lint", "security", "build"]
    assert [j["root"] for j in doc["jobs"]] == ["jobs/one", "jobs/two"]
    for job, root in zip(doc["jobs"], (one, two)):
        assert job["event_log"]["chain_hash"] == _seal(root)
    assert doc["provenance"]["subjects"] == ["jobs/two/artifacts/demo-0.1.0-py3-none-any.whl",
                                             "jobs/two/artifacts/demo-0.1.0.tar.gz"]
    report = verify_evidence(tmp_path, signing.load_public_key(keys.public), True)
    assert report.failure is None, report.lines
    assert {line.name for line in report.lines} >= {"job " + j["run_id"] for j in doc["jobs"]}


def _merge(workspace: Path, jobs: list[Path], keys: signing.KeyPairFiles,
           declared: dict[str, tuple[str, ...]] = DECLARED) -> Any:
    """As CI does: merge the sealed jobs with the trusted key, then seal the merge."""
    config = es.config(keys.private)
    written = merge(workspace, jobs, config, declared, es.trust(keys))
    es.seal_if_expected(workspace, config)
    return written


def _seal(root: Path) -> str:
    seal = json.loads((root / "artifacts" / "event-log-seal.json").read_text())
    chain: str = seal["event_log"]["chain_hash"]
    return chain


def test_merge_verdict_fails_on_a_failed_check_in_any_job(tmp_path: Path,
                                                          keys: signing.KeyPairFiles) -> None:
    one, two = _jobs(tmp_path, keys.private, coverage=Status.FAILED, tests=Status.FAILED)
    _merge(tmp_path, [one, two], keys)
    doc = _doc(tmp_path)
    assert doc["status"] == "FAILED"
    assert [f["id"] for f in doc["verdict"]["failures"]] == ["tests.coverage"]


def test_merge_of_one_job_misses_the_other_stages(tmp_path: Path,
                                                  keys: signing.KeyPairFiles) -> None:
    one, _ = _jobs(tmp_path, keys.private)
    _merge(tmp_path, [one], keys)
    failures = _doc(tmp_path)["verdict"]["failures"]
    assert {f["status"] for f in failures} == {"MISSING"}
    assert {f["id"].split(".")[0] for f in failures} == {"security", "build"}


@pytest.mark.parametrize("how", ["flip", "truncate", "result"])
def test_merge_refuses_a_tampered_job(tmp_path: Path, keys: signing.KeyPairFiles,
                                      how: str) -> None:
    one, two = _jobs(tmp_path, keys.private)
    log = two / "artifacts" / "ci_cd_events.log"
    if how == "flip":
        data = bytearray(log.read_bytes())
        data[data.index(b'"PASSED"') + 1] = ord("Q")
        log.write_bytes(bytes(data))
    elif how == "truncate":
        lines = log.read_bytes().split(b"\n")[:-1]
        log.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    else:
        result = two / "reports" / "stages" / "build.json"
        result.write_text(result.read_text().replace('"PASSED"', '"FAILED"', 1))
    with pytest.raises(EvidenceError, match="refused"):
        _merge(tmp_path, [one, two], keys)
    assert not (tmp_path / "artifacts" / "artifact-validation.json").exists()


def test_merge_refuses_a_stage_run_twice_and_a_job_outside(tmp_path: Path,
                                                           keys: signing.KeyPairFiles) -> None:
    one, _ = _jobs(tmp_path, keys.private)
    with pytest.raises(UsageError, match="two jobs"):
        _merge(tmp_path, [one, one], keys)
    (tmp_path / "other").mkdir()
    with pytest.raises(UsageError, match="inside the workspace"):
        _merge(tmp_path / "other", [one], keys)


def test_forty_single_byte_changes_in_merged_evidence_are_all_caught(
        tmp_path: Path, keys: signing.KeyPairFiles) -> None:
    one, two = _jobs(tmp_path, keys.private)
    _merge(tmp_path, [one, two], keys)
    trusted = signing.load_public_key(keys.public)
    assert verify_evidence(tmp_path, trusted).failure is None
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size
                   and "keys" not in p.parts and "requirements" not in p.parts
                   and p.name != "finsig-signing.pub")  # beside the evidence, never trusted
    rng = random.Random(8)
    missed = []
    for _ in range(40):
        path = rng.choice(files)
        original = path.read_bytes()
        changed = bytearray(original)
        offset = rng.randrange(len(original))
        changed[offset] ^= rng.randrange(1, 256)
        path.write_bytes(bytes(changed))
        try:
            if verify_evidence(tmp_path, trusted).failure is None:
                missed.append(f"{path.relative_to(tmp_path)}@{offset}")
        finally:
            path.write_bytes(original)
    assert missed == []


def test_a_rechained_forged_job_is_refused(tmp_path: Path, keys: signing.KeyPairFiles) -> None:
    one, two = _jobs(tmp_path, keys.private, coverage=Status.FAILED, tests=Status.FAILED)
    forge_tests_passed(one)
    with pytest.raises(EvidenceError, match="refused: not sealed by a trusted key"):
        _merge(tmp_path, [one, two], keys)
    assert not (tmp_path / "artifacts").exists()
    # only by explicit request, and then the merged document says so
    written = merge(tmp_path, [one, two], es.config(keys.private), DECLARED,
                    es.trust(keys, allow_unsigned=True))
    assert written.document["signing"]["allow_unsigned_jobs"] is True
    assert [j["signed_by"] for j in written.document["jobs"]] == [None, keys.fingerprint]


def test_merge_without_a_trusted_key_refuses(tmp_path: Path, keys: signing.KeyPairFiles) -> None:
    one, two = _jobs(tmp_path, keys.private)
    with pytest.raises(EvidenceError, match="no trusted key given"):
        merge(tmp_path, [one, two], es.config(), DECLARED, es.trust())
    other = es.make_key(tmp_path / "other")
    with pytest.raises(EvidenceError, match="not sealed by a trusted key"):
        merge(tmp_path, [one, two], es.config(), DECLARED, es.trust(other))


def test_an_unsigned_merge_by_request(tmp_path: Path) -> None:
    """Local use: unsigned jobs merged with --allow-unsigned (recorded); a stage imported with
    --from is counted once, in the job that ran it."""
    fakes = es.stages()
    build_job = es.workspace(tmp_path / "evidence" / "build")
    es.run(build_job, fakes, es.config(), only=["build"])
    later = es.workspace(tmp_path / "evidence" / "rest")
    consumer = es.Fake("image", ("image.build",), requires=("build",))
    out = es.run(later, [*fakes, consumer], es.config(),
                 only=["tests", "lint", "security", "image"], from_dir=build_job)
    assert out.results["image"].status is Status.PASSED
    declared = {**DECLARED, "image": ("image.build",)}
    written = merge(tmp_path, [build_job, later], es.config(), declared,
                    es.trust(allow_unsigned=True))
    doc = written.document
    assert written.errors == () and doc["status"] == "PASSED", doc["verdict"]
    assert doc["signing"]["allow_unsigned_jobs"] is True
    assert [j["signed_by"] for j in doc["jobs"]] == [None, None]
    owners = {s["name"]: s["run_id"] for s in doc["stages"]}
    assert owners["build"] == doc["jobs"][0]["run_id"]
    stmt = json.loads((tmp_path / "artifacts" / "provenance.intoto.json").read_text())
    names = [s["name"] for s in stmt["subject"]]
    assert names == ["demo-0.1.0-py3-none-any.whl", "demo-0.1.0.tar.gz"]
    assert verify_evidence(tmp_path, None).failure is None
