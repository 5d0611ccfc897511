"""A stage job the way GitHub runs it: the runner image as job container with its entrypoint
replaced (`tail -f /dev/null`), the workspace under /__w, each step a `docker exec` as the image's
user (root) with the job's environment — the steps are the workflow's own lines. Then the seal
job's part: the same image, in a container with no Docker socket and no network, seals that
job's evidence with a key from outside the workspace, and the pinned fingerprint verifies it."""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404
from collections.abc import Iterator
from pathlib import Path

import pytest

from finsig_runner.core import signing

from tests.support.ci_files import ROOT, RUNNER_IMAGE, WORKFLOWS_DIR, load
from tests.support.containers import LABELS

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]

WORK = "/__w/finsig/finsig"
OWNER = 1001  # the uid of GitHub's runner account, not root
LABEL_ARGS = [arg for name, value in LABELS.items() for arg in ("--label", f"{name}={value}")]


def docker(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *argv], capture_output=True, text=True,  # nosec B603 B607
                          timeout=240)


@pytest.fixture
def job_container(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if docker("image", "inspect", RUNNER_IMAGE).returncode != 0:
        pytest.fail(f"{RUNNER_IMAGE} is missing: build it first (make images)")
    workspace = tmp_path / "finsig"
    workspace.mkdir()
    # what actions/checkout leaves: the committed tree, in a git repository
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT,  # nosec
                             capture_output=True, check=True, timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", str(workspace)], input=archive,  # nosec B603 B607
                   check=True, timeout=60)
    for argv in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=ci", "-c", "user.email=ci@localhost", "commit", "-qm", "ci"]):
        subprocess.run(["git", *argv], cwd=workspace, check=True, timeout=60)  # nosec
    for path in [workspace, *workspace.rglob("*")]:
        os.lchown(path, OWNER, OWNER)
    created = docker("create", *LABEL_ARGS, "--network", "none", "--workdir", WORK,
                     "-e", "HOME=/github/home", "-e", f"GITHUB_WORKSPACE={WORK}",
                     "-v", f"{workspace}:{WORK}", "--entrypoint", "tail", RUNNER_IMAGE,
                     "-f", "/dev/null")
    assert created.returncode == 0, created.stderr
    cid = created.stdout.strip()
    try:
        started = docker("start", cid)
        assert started.returncode == 0, started.stderr
        yield cid, workspace
    finally:
        docker("rm", "-f", cid)


def test_the_lint_job_runs_as_its_workflow_says_and_its_evidence_is_sealed_apart(
    job_container: tuple[str, Path], tmp_path: Path,
) -> None:
    cid, workspace = job_container
    keys = signing.write_keypair(tmp_path / "keys")
    job = load(WORKFLOWS_DIR / "lint-validation.yml")["jobs"]["lint"]
    env = [arg for name, value in job["env"].items() for arg in ("-e", "{}={}".format(
        name, str(value).replace("${{ vars.FINSIG_SIGNING_FINGERPRINT }}", keys.fingerprint)))]
    outputs = {}
    for step in job["steps"]:
        if "run" not in step:
            continue  # actions (checkout, upload) are GitHub's part
        done = docker("exec", *env, cid, "bash", "-e", "-c", f'mkdir -p "$HOME"; {step["run"]}')
        env_log = workspace / "reports/logs/project-env.log"
        assert done.returncode == 0, (f"{step['name']}\n{done.stdout}{done.stderr}"
                                      + (env_log.read_text() if env_log.exists() else ""))
        outputs[step["name"]] = done.stdout
    assert "PARTIAL" in outputs["Run lint,typing"]
    assert "Contracts: " in outputs["Import contracts (the rooms' arrows, docs/architecture.md)"]
    written = list((workspace / "reports").rglob("*")) + list((workspace / "artifacts").rglob("*"))
    assert written
    assert {p.stat().st_uid for p in written} == {OWNER}, "evidence owned by the workspace owner"

    # the seal job: the uploaded evidence only, the key mounted from outside it, no socket
    evidence = tmp_path / "seal" / "evidence" / "lint"
    for sub in ("reports", "artifacts"):
        shutil.copytree(workspace / sub, evidence / sub)
    sealed = docker("run", "--rm", *LABEL_ARGS, "--network", "none", "--entrypoint", "bash",
                    "-v", f"{tmp_path / 'seal'}:{WORK}", "-w", WORK,
                    "-v", f"{keys.private}:/run/finsig-signing.key:ro", RUNNER_IMAGE, "-e", "-c",
                    "finsig-runner seal evidence/lint --key /run/finsig-signing.key\n"
                    f"finsig-runner verify evidence/lint --pubkey {keys.fingerprint} "
                    "--allow-partial")
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert f"sealed by {keys.fingerprint} (containers not checked" in sealed.stdout
    assert f"signature (document) ........ OK  artifacts/artifact-validation.json sealed by " \
           f"{keys.fingerprint}" in sealed.stdout
