"""The evidence layout both CI files use is what validate --merge accepts: a real job run with
--only, its reports/ and artifacts/ moved under evidence/<job>/, merged in a fresh workspace."""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404
from pathlib import Path

import pytest

from finsig_runner.core import signing

from tests.support.ci_files import ROOT, tool

pytestmark = pytest.mark.timeout(300)


def runner(workspace: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("finsig-runner"), *argv], cwd=workspace,  # nosec B603
                          capture_output=True, text=True, timeout=240)


def test_a_lint_job_is_merged_and_the_stages_no_job_ran_are_missing(tmp_path: Path) -> None:
    """As CI hands evidence on: a job runs without the key and names the expected signer, a
    sealing step (no project code) seals it, the merge takes only sealed jobs and is sealed in
    its turn, and the verdict is verified with the public key alone."""
    keys = signing.write_keypair(tmp_path / "keys")
    workspace = tmp_path / "checkout"
    workspace.mkdir()
    for name in ("pyproject.toml", ".flake8"):
        shutil.copy2(ROOT / name, workspace / name)
    for name in ("src", "requirements"):
        shutil.copytree(ROOT / name, workspace / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    signer = f"expected_signer={keys.fingerprint}"

    job = runner(workspace, "run", "--only", "lint", "--set", signer, "--set", "sbom=false")
    assert job.returncode == 0, job.stdout + job.stderr
    assert "PARTIAL" in job.stdout
    # what the GitLab after_script does (and the GitHub upload/download round trip)
    (workspace / "evidence" / "lint").mkdir(parents=True)
    for name in ("reports", "artifacts"):
        shutil.move(workspace / name, workspace / "evidence" / "lint" / name)

    unsealed = runner(workspace, "validate", "--merge", "evidence/lint",
                      "--pubkey", str(keys.public))
    assert unsealed.returncode == 1 and "not sealed by a trusted key" in unsealed.stderr
    sealed = runner(workspace, "seal", "evidence/lint", "--key", str(keys.private))
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr

    merged = runner(workspace, "validate", "--merge", "evidence/lint",
                    "--pubkey", str(keys.public), "--set", signer)
    assert merged.returncode == 1, merged.stdout + merged.stderr
    document = json.loads((workspace / "artifacts/artifact-validation.json").read_text())
    assert document["kind"] == "merge"
    assert [job["root"] for job in document["jobs"]] == ["evidence/lint"]
    assert document["jobs"][0]["signed_by"] == keys.fingerprint
    assert "MISSING stage tests did not run" in merged.stdout
    assert runner(workspace, "seal", ".", "--key", str(keys.private)).returncode == 0
    verdict = runner(workspace, "verify", ".", "--pubkey", keys.fingerprint)
    assert verdict.returncode == 1
    assert "the evidence is intact; the run FAILED" in verdict.stdout
