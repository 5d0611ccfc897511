"""Sealed evidence verifies with an implementation that is not ours: securesystemslib's DSSE
Envelope for the document and the seal, the in-toto library's Envelope for the provenance
Statement, and the auditor's script of docs/evidence.md ("Verifying without finsig"). finsig code
only produces the evidence here (the real engine, validate stage and sealer over fake stages);
nothing of finsig checks it. A byte flipped in a payload fails their checks."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess  # nosec B404 (the documented script, with this interpreter)
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from in_toto.exceptions import SignatureVerificationError  # type: ignore[import-untyped]
from in_toto.models.metadata import (  # type: ignore[import-untyped]
    Envelope as InTotoEnvelope, Metadata,
)
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]  # not in __all__

from finsig_runner.core import signing
from finsig_runner.evidence.merge import merge

from tests.runner.evidence.conftest import Evidence
from tests.support import evidence_set as es
from tests.support.ci_files import ROOT

pytestmark = pytest.mark.timeout(120)

DOCUMENT = "artifacts/artifact-validation.json"
SEAL = "artifacts/event-log-seal.json"
PROVENANCE = "artifacts/provenance.intoto.jsonl"
TYPES = {DOCUMENT: "application/vnd.finsig.artifact-validation+json",
         SEAL: "application/vnd.finsig.event-log-seal+json"}


def their_key(public_pem: bytes) -> SSlibKey:
    """The auditor's key object, from the PEM alone; its keyid is finsig's fingerprint (the
    sha256 of the raw public key), computed here with hashlib."""
    public = serialization.load_pem_public_key(public_pem)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SSlibKey.from_crypto(public, keyid=hashlib.sha256(raw).hexdigest())


def envelope_json(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_bytes())
    return loaded


def flipped(data: dict[str, Any]) -> dict[str, Any]:
    """The envelope with one byte of its payload changed (its signature left as it was)."""
    payload = bytearray(base64.b64decode(data["payload"]))
    payload[len(payload) // 2] ^= 0x01
    return {**data, "payload": base64.b64encode(bytes(payload)).decode()}


@pytest.mark.parametrize("name", [DOCUMENT, SEAL])
def test_securesystemslib_verifies_the_document_and_the_seal(signed: Evidence, name: str) -> None:
    key = their_key(signed.keys.public.read_bytes())
    envelope = Envelope.from_dict(envelope_json(signed.root / f"{name}.dsse"))
    assert envelope.verify([key], 1) == {key.keyid: key}
    assert key.keyid == signed.keys.fingerprint
    assert envelope.payload_type == TYPES[name]
    assert envelope.payload == (signed.root / name).read_bytes()


def test_in_toto_verifies_the_provenance_statement(signed: Evidence) -> None:
    key = their_key(signed.keys.public.read_bytes())
    envelope = Metadata.load(str(signed.root / PROVENANCE))
    assert isinstance(envelope, InTotoEnvelope)
    envelope.verify_signature({"keyid": key.keyid, **key.to_dict()})
    statement = json.loads(envelope.payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert envelope.payload == (signed.root / "artifacts/provenance.intoto.json").read_bytes()
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in (signed.root / "artifacts").glob("demo-0.1.0*")}


@pytest.mark.parametrize("name", [DOCUMENT, SEAL, PROVENANCE])
def test_a_flipped_payload_byte_or_another_key_fails_their_verification(
    signed: Evidence, name: str, tmp_path: Path,
) -> None:
    """The negative control: the same libraries refuse what finsig would refuse."""
    key = their_key(signed.keys.public.read_bytes())
    path = signed.root / (name if name == PROVENANCE else f"{name}.dsse")
    # someone else's key claiming the pinned keyid: the signature decides, not the name
    impostor = signing.write_keypair(tmp_path / "impostor")
    other = their_key(impostor.public.read_bytes())
    other.keyid = key.keyid
    for data, trusted in ((flipped(envelope_json(path)), key), (envelope_json(path), other)):
        if name == PROVENANCE:
            copy = tmp_path / "provenance.intoto.jsonl"
            copy.write_text(json.dumps(data))
            with pytest.raises(SignatureVerificationError):
                Metadata.load(str(copy)).verify_signature(
                    {"keyid": trusted.keyid, **trusted.to_dict()})
        else:
            with pytest.raises(VerificationError):
                Envelope.from_dict(data).verify([trusted], 1)


def auditor_script() -> str:
    """The Python block of docs/evidence.md's "Verifying without finsig" section."""
    text = (ROOT / "docs/evidence.md").read_text(encoding="utf-8")
    section = text.split("\n## Verifying without finsig\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert match, "no ```python block in the section"
    return match.group(1)


def run_script(tmp: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The script as an auditor runs it; it fails (exit 99) if it imported anything of finsig."""
    script = tmp / "check_evidence.py"
    script.write_text(auditor_script())
    guard = ("import runpy, sys\nsys.argv = sys.argv[1:]\ntry:\n"
             "    runpy.run_path(sys.argv[0], run_name='__main__')\nfinally:\n"
             "    if [m for m in sys.modules if m.startswith('finsig')]:\n"
             "        sys.stderr.write('imported finsig'); sys.exit(99)\n")
    return subprocess.run([sys.executable, "-c", guard, str(script), *argv],  # nosec B603
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def sealed_merge(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """What CI hands an auditor: two sealed jobs merged, the merge sealed."""
    base = tmp_path_factory.mktemp("merged")
    keys = es.make_key(base / "keys")
    workspace = es.workspace(base / "ws")
    fakes = es.stages()
    jobs = [es.workspace(workspace / "evidence" / name) for name in ("one", "two")]
    es.run(jobs[0], fakes, es.config(keys.private), only=["tests", "lint"])
    es.run(jobs[1], fakes, es.config(keys.private), only=["security", "build"])
    config = es.config(keys.private)
    merge(workspace, jobs, config, {f.name: f.checks for f in fakes}, es.trust(keys))
    es.seal_if_expected(workspace, config)
    return Evidence(workspace, keys)


def test_the_documented_script_accepts_sealed_evidence(signed: Evidence, sealed_merge: Evidence,
                                                       tmp_path: Path) -> None:
    for evidence, kind in ((signed, "run"), (sealed_merge, "merge")):
        done = run_script(tmp_path, str(evidence.root), evidence.keys.fingerprint,
                          str(evidence.keys.public))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"evidence intact, sealed by {evidence.keys.fingerprint}; PASSED" in done.stdout
        assert done.stdout.startswith(kind + " ")
    partial = sealed_merge.root / "evidence" / "one"
    done = run_script(tmp_path, str(partial), sealed_merge.keys.fingerprint)
    assert done.returncode == 1 and done.stdout.rstrip().endswith("; PARTIAL"), done.stderr


@pytest.mark.parametrize("change", [
    "a report", "a job's event log", "the document's envelope", "the provenance's envelope",
    "another pinned fingerprint",
])
def test_the_documented_script_refuses_a_changed_copy(sealed_merge: Evidence, tmp_path: Path,
                                                      change: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sealed_merge.root, copy)
    pinned = sealed_merge.keys.fingerprint
    if change == "a report":
        with (copy / "evidence/one/reports/flake8-report.txt").open("a") as handle:
            handle.write("x")
    elif change == "a job's event log":
        log = copy / "evidence/two/artifacts/ci_cd_events.log"
        log.write_bytes(log.read_bytes().replace(b'"PASSED"', b'"FAILED"', 1))
    elif change == "another pinned fingerprint":
        pinned = "0" * 64
    else:
        name = DOCUMENT + ".dsse" if "document" in change else PROVENANCE
        (copy / name).write_text(json.dumps(flipped(envelope_json(copy / name))))
    done = run_script(tmp_path, str(copy), pinned)
    assert done.returncode not in (0, 99), done.stdout + done.stderr
    assert "evidence intact" not in done.stdout
