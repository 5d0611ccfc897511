"""`verify` on a signed evidence set: untouched it passes; every tampering is caught."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from finsig_runner.core import signing
from finsig_runner.evidence.verify import Outcome, Report, verify_evidence
from finsig_runner.core.model import Status

from tests.support import evidence_set as es
from .conftest import Evidence

pytestmark = pytest.mark.timeout(120)


def _check(ev: Evidence, key: Path | None = None, require: bool = False) -> Report:
    trusted = signing.load_public_key(key or ev.keys.public)
    return verify_evidence(ev.root, trusted, require)


def _files(root: Path) -> list[Path]:
    """Every evidence file (the public key beside it is not evidence: it is never trusted)."""
    return sorted(p for sub in ("reports", "artifacts") for p in (root / sub).rglob("*")
                  if p.is_file() and p.stat().st_size and p.name != "finsig-signing.pub")


def test_untouched_evidence_verifies(signed: Evidence) -> None:
    report = _check(signed, require=True)
    assert report.failure is None, report.lines
    names = [line.name for line in report.lines]
    for expected in ("schema", "signature (document)", "files", "event log", "seal",
                     "signature (seal)", "log tail", "provenance", "verdict"):
        assert expected in names


def test_sixty_seeded_single_byte_changes_are_all_caught(signed: Evidence) -> None:
    rng = random.Random(20261126)
    files = _files(signed.root)
    assert len(files) >= 15
    missed = []
    for _ in range(60):
        path = rng.choice(files)
        original = path.read_bytes()
        offset = rng.randrange(len(original))
        changed = bytearray(original)
        changed[offset] ^= rng.randrange(1, 256)
        path.write_bytes(bytes(changed))
        try:
            if _check(signed).failure is None:
                missed.append(f"{path.relative_to(signed.root)}@{offset}")
        finally:
            path.write_bytes(original)
    assert missed == []
    assert _check(signed).failure is None  # everything restored


def test_a_swapped_public_key_is_caught(signed: Evidence, tmp_path: Path) -> None:
    other = es.make_key(tmp_path / "other")
    report = _check(signed, key=other.public)
    failed = {line.name: line.detail for line in report.lines if line.result is Outcome.FAILED}
    assert "is " + other.fingerprint in failed["signer"]
    assert "unknown key" in failed["signature (document)"]


@pytest.mark.parametrize("keep", [1, 5, -1])
def test_a_truncated_log_is_caught(signed: Evidence, keep: int) -> None:
    log = signed.root / "artifacts" / "ci_cd_events.log"
    original = log.read_bytes()
    lines = original.split(b"\n")[:-1]
    log.write_bytes(b"\n".join(lines[:keep]) + b"\n")
    try:
        failure = _check(signed).failure
        assert failure is not None and failure.name in ("event log", "seal")
    finally:
        log.write_bytes(original)


def test_a_missing_seal_is_caught(signed: Evidence) -> None:
    seal = signed.root / "artifacts" / "event-log-seal.json"
    original = seal.read_bytes()
    seal.unlink()
    try:
        failure = _check(signed).failure
        assert failure is not None and failure.name == "seal"
    finally:
        seal.write_bytes(original)


def test_an_envelope_in_another_form_is_rejected(signed: Evidence) -> None:
    envelope = signed.root / "artifacts" / "artifact-validation.json.dsse"
    original = envelope.read_bytes()
    envelope.write_text(json.dumps(json.loads(original), indent=1) + "\n")  # same content
    try:
        failure = _check(signed).failure
        assert failure is not None and "canonical" in failure.detail
    finally:
        envelope.write_bytes(original)


def test_a_rewritten_document_with_a_stripped_signature_is_caught(signed: Evidence) -> None:
    doc = signed.root / "artifacts" / "artifact-validation.json"
    envelope = doc.with_name(doc.name + ".dsse")
    original, sig = doc.read_bytes(), envelope.read_bytes()
    data = json.loads(original)
    data["signing"].update(expected_signer=None, reason="forged")
    doc.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    envelope.unlink()
    try:
        report = _check(signed)
        assert report.failure is not None  # the seal still names the real document's sha256
        assert _check(signed, require=True).failure is not None
    finally:
        doc.write_bytes(original)
        envelope.write_bytes(sig)


def test_unsigned_evidence_is_reported_and_fails_only_when_required(tmp_path: Path) -> None:
    root = es.workspace(tmp_path / "ws")
    out = es.run(root, es.stages(), es.config())
    assert out.exit_code == 0
    doc = json.loads((root / "artifacts" / "artifact-validation.json").read_bytes())
    assert doc["signing"] == {"expected_signer": None, "allow_unsigned_jobs": False,
                              "reason": "no expected_signer configured: the evidence stays "
                                        "unsigned"}
    assert (root / "artifacts" / "provenance.intoto.json").is_file()
    report = verify_evidence(root, None)
    assert report.failure is None
    assert any("not sealed" in line.detail for line in report.lines)
    failure = verify_evidence(root, None, require_signature=True).failure
    assert failure is not None and "not sealed" in failure.detail


def test_a_run_that_expects_a_signer_but_was_never_sealed_fails_with_the_key(
        tmp_path: Path) -> None:
    keys = es.make_key(tmp_path / "keys")
    root = es.workspace(tmp_path / "ws")
    config = es.config(keys.private)
    es._KEYS.pop(config.expected_signer)  # the run only names the signer; nobody seals
    out = es.run(root, es.stages(), config)
    assert out.exit_code == 0
    doc = json.loads((root / "artifacts" / "artifact-validation.json").read_bytes())
    assert doc["signing"]["expected_signer"] == keys.fingerprint
    failure = verify_evidence(root, signing.load_public_key(keys.public)).failure
    assert failure is not None and failure.name == "signature (document)"
    assert "not sealed" in failure.detail


def test_another_signer_than_the_expected_one_is_named(signed: Evidence, tmp_path: Path) -> None:
    other = es.make_key(tmp_path / "other")
    report = _check(signed, key=other.public)
    signer = [line for line in report.lines if line.name == "signer"]
    assert signer and signer[0].result is Outcome.FAILED
    assert signed.keys.fingerprint in signer[0].detail


def test_partial_evidence_fails_unless_allowed(tmp_path: Path) -> None:
    keys = es.make_key(tmp_path / "keys")
    root = es.workspace(tmp_path / "ws")
    es.run(root, es.stages(), es.config(keys.private), only=["lint"])
    trusted = signing.load_public_key(keys.public)
    failure = verify_evidence(root, trusted).failure
    assert failure is not None and failure.name == "verdict" and "PARTIAL" in failure.detail
    assert verify_evidence(root, trusted, allow_partial=True).failure is None


def test_intact_evidence_of_a_failed_run_fails_at_the_verdict(tmp_path: Path) -> None:
    keys = es.make_key(tmp_path / "keys")
    root = es.workspace(tmp_path / "ws")
    out = es.run(root, es.stages(coverage=Status.FAILED, tests=Status.FAILED),
                 es.config(keys.private))
    assert out.exit_code == 1
    report = verify_evidence(root, signing.load_public_key(keys.public))
    assert [line.name for line in report.lines if line.result is Outcome.FAILED] == ["verdict"]
    assert report.failure is not None and "tests.coverage FAILED" in report.failure.detail
