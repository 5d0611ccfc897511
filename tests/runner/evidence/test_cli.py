"""`finsig-runner verify` and `finsig-runner validate --merge` from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finsig_runner.core import signing
from finsig_runner.cli.main import main

from tests.support import evidence_set as es
from .conftest import Evidence

pytestmark = pytest.mark.timeout(120)


def test_verify_passes_with_a_key_file_or_a_pinned_fingerprint(
        signed: Evidence, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(signed.root), "--pubkey", str(signed.keys.public),
                 "--require-signature"]) == 0
    out = capsys.readouterr().out
    assert "signature (document) " in out and out.rstrip().endswith("verify: OK")
    assert main(["verify", str(signed.root), "--pubkey", signed.keys.fingerprint]) == 0


def test_verify_names_the_first_failure(signed: Evidence, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    other = es.make_key(tmp_path / "other")
    assert main(["verify", str(signed.root), "--pubkey", str(other.public)]) == 1
    assert "verify: FAILED at signer: the document expects signer" in capsys.readouterr().out
    assert main(["verify", str(signed.root), "--pubkey", other.fingerprint]) == 2  # no such key


def test_a_key_inside_the_directory_is_never_trusted(signed: Evidence,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    inside = signed.root / "artifacts" / "finsig-signing.pub"
    assert main(["verify", str(signed.root), "--pubkey", str(inside)]) == 2
    assert "never trusted" in capsys.readouterr().err


def test_unsigned_evidence_fails_with_require_signature_or_a_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = es.workspace(tmp_path / "ws")
    es.run(root, es.stages(), es.config())
    assert main(["verify", str(root)]) == 0
    assert "not sealed" in capsys.readouterr().out
    assert main(["verify", str(root), "--require-signature"]) == 1
    keys = signing.write_keypair(tmp_path / "keys")
    assert main(["verify", str(root), "--pubkey", str(keys.public)]) == 1
    assert "not sealed" in capsys.readouterr().out


def test_validate_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = es.make_key(tmp_path / "keys")
    jobs = []
    for name, only in (("a", ["tests", "lint", "validate"]),
                       ("b", ["security", "build", "validate"])):
        root = es.workspace(tmp_path / "ci" / name)
        es.run(root, es.stages(), es.config(keys.private), only=only)
        jobs.append(root)
    shutil.rmtree(tmp_path / "ci" / "requirements", ignore_errors=True)
    code = main(["validate", "--workspace", str(tmp_path / "ci"), "--merge", *map(str, jobs),
                 "--pubkey", str(keys.public), "--set", f"expected_signer={keys.fingerprint}"])
    out = capsys.readouterr().out
    # the registry's real stages (typing, ...) were in no job: their checks are MISSING
    assert code == 1 and "validate: FAILED over 2 job(s); seal it with the key" in out
    assert "required typing." in out
    assert main(["seal", str(tmp_path / "ci"), "--key", str(keys.private)]) == 0
    assert main(["verify", str(tmp_path / "ci"), "--pubkey", keys.fingerprint]) == 1
    out = capsys.readouterr().out
    assert "files ....................... OK" in out  # the evidence itself is intact
    assert "verify: FAILED at verdict: the evidence is intact; the run FAILED" in out
