"""A stage job the way GitHub runs it: the runner image as job container with its entrypoint
replaced (`tail -f /dev/null`), the workspace under /__w, each step a `docker exec` as the image's
user (root) — the steps are the workflow's own lines."""

from __future__ import annotations

import os
import subprocess  # nosec B404
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ci_files import ROOT, RUNNER_IMAGE, WORKFLOWS_DIR, load

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]

WORK = "/__w/finsig/finsig"
OWNER = 1001  # the uid of GitHub's runner account, not root


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
    created = docker("create", "--network", "none", "--workdir", WORK,
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


def test_the_lint_job_runs_as_its_workflow_says(job_container: tuple[str, Path]) -> None:
    cid, workspace = job_container
    job = load(WORKFLOWS_DIR / "lint-validation.yml")["jobs"]["lint"]
    for step in job["steps"]:
        if "run" not in step:
            continue  # actions (checkout, upload) are GitHub's part
        done = docker("exec", cid, "bash", "-e", "-c", f'mkdir -p "$HOME"; {step["run"]}')
        env_log = workspace / "reports/logs/project-env.log"
        assert done.returncode == 0, (f"{step['name']}\n{done.stdout}{done.stderr}"
                                      + (env_log.read_text() if env_log.exists() else ""))
    assert "PARTIAL" in done.stdout
    written = list((workspace / "reports").rglob("*")) + list((workspace / "artifacts").rglob("*"))
    assert written
    assert {p.stat().st_uid for p in written} == {OWNER}, "evidence owned by the workspace owner"
