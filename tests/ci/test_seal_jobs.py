"""The seal, merge and verdict jobs of both CI files, replayed on this machine with their own shell
lines and conditions (tests/ci/replay.py) over four jobs' real, unsealed evidence (the engine over
fake stages, tests/support/evidence_set.py): what the seal job seals, what the verdict accepts,
and that the key never outlives the seal job, whatever fails."""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.core import signing
from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.model import Status

from tests.support.ci_replay import ArtifactStore, Step, github_job, gitlab_expand, gitlab_job
from tests.support import evidence_set as es
from tests.support.ci_files import GITLAB, WORKFLOWS_DIR, load

pytestmark = pytest.mark.timeout(180)

JOBS = {"tests": "tests", "lint": "lint", "security": "security", "deploy": "build"}
# The checks the fake stages report: a verdict over them can pass (the checkout's policy).
POLICY = "[tool.finsig-runner]\nrequired_checks = [{}]\n".format(", ".join(
    f'"{check}"' for fake in es.stages() for check in fake.checks))
REPO = "finsig/finsig"
PUSH = {"github.event_name": "push", "github.repository": REPO}
PULL = {"github.event_name": "pull_request", "github.repository": REPO,
        "github.event.pull_request.head.repo.full_name": REPO}
CI = load(WORKFLOWS_DIR / "ci-validation.yml")["jobs"]


@dataclass(frozen=True)
class Jobs:
    keys: signing.KeyPairFiles
    passed: Path  # <job>/{reports,artifacts} for each job of JOBS, every stage PASSED
    failed_tests: Path  # the tests job's evidence with its tests FAILED


def _job_runs(root: Path, fingerprint: str) -> Path:
    for job, stage in JOBS.items():
        workspace = es.workspace(root / job)
        config = RunnerConfig(expected_signer=fingerprint, sbom=True)  # unsealed: no key known
        es.run(workspace, es.stages(), config, only=[stage])
    return root


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Jobs:
    base = tmp_path_factory.mktemp("ci-jobs")
    keys = signing.write_keypair(base / "keys")
    failed = base / "failed"
    es.run(es.workspace(failed / "tests"), es.stages(tests=Status.FAILED),
           RunnerConfig(expected_signer=keys.fingerprint, sbom=True), only=["tests"])
    return Jobs(keys, _job_runs(base / "passed", keys.fingerprint), failed)


def store_with(jobs: Jobs, tmp: Path, failed_tests: bool = False) -> ArtifactStore:
    """What the four stage jobs uploaded: evidence-<job> holding reports/ and artifacts/."""
    store = ArtifactStore(tmp / "store")
    for job in JOBS:
        source = (jobs.failed_tests if failed_tests and job == "tests" else jobs.passed) / job
        for sub in ("reports", "artifacts"):
            shutil.copytree(source / sub, store.root / f"evidence-{job}" / sub)
    return store


def checkout(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text(POLICY)


def workspace(tmp: Path, job: str) -> Path:
    path = tmp / job / "ws"
    path.mkdir(parents=True)
    return path


def context(jobs: Jobs, event: dict[str, str], **given: str) -> dict[str, str]:
    pem = jobs.keys.private.read_text()
    return {**event, "vars.FINSIG_SIGNING_FINGERPRINT": jobs.keys.fingerprint,
            "secrets.FINSIG_SIGNING_KEY": pem, **given}


def ran(steps: list[Step]) -> dict[str, int]:
    return {s.name: s.returncode for s in steps if s.ran}


def document(root: Path) -> Any:
    return json.loads((root / "artifacts/artifact-validation.json").read_text())


def test_github_push_seals_a_failed_verdict_and_the_verdict_job_fails_on_it(
    jobs: Jobs, tmp_path: Path,
) -> None:
    store = store_with(jobs, tmp_path, failed_tests=True)
    sealer = workspace(tmp_path, "seal")
    steps = github_job(CI["seal"], sealer, context(jobs, PUSH), store.act(sealer, checkout))
    assert all(s.ran and s.returncode == 0 for s in steps), [(s.name, s.output) for s in steps]
    assert not (tmp_path / "seal/runner-temp/finsig-signing.key").exists()
    for job in JOBS:
        assert (sealer / f"evidence/{job}/artifacts/artifact-validation.json.dsse").is_file()
    merged = document(sealer)
    assert merged["status"] == "FAILED" and merged["kind"] == "merge"
    assert {j["signed_by"] for j in merged["jobs"]} == {jobs.keys.fingerprint}

    verdict = workspace(tmp_path, "verdict")
    results = {name: "failure" if name == "tests" else "success" for name in JOBS}
    steps = github_job(CI["verdict"], verdict, context(jobs, PUSH), store.act(verdict, checkout),
                       needs={**results, "seal": "success", "merge": "skipped"})
    outcome = ran(steps)
    assert "Refuse a pull request from a fork" not in outcome
    check = "Verify every job, then the merged verdict, with the pinned fingerprint alone"
    assert outcome[check] == 1
    (output,) = [s.output for s in steps if s.name == check]
    assert output.count("verdict ..................... NOTE  PARTIAL") == len(JOBS)
    assert "verify: FAILED at verdict: the evidence is intact; the run FAILED" in output


def test_github_pull_request_is_merged_unsigned_and_passes_for_review(
    jobs: Jobs, tmp_path: Path,
) -> None:
    store = store_with(jobs, tmp_path)
    merger = workspace(tmp_path, "merge")
    steps = github_job(CI["merge"], merger, context(jobs, PULL), store.act(merger, checkout))
    assert all(s.ran and s.returncode == 0 for s in steps), [(s.name, s.output) for s in steps]
    merged = document(merger)
    assert merged["status"] == "PASSED" and merged["signing"]["allow_unsigned_jobs"] is True
    assert {j["signed_by"] for j in merged["jobs"]} == {None}

    verdict = workspace(tmp_path, "verdict")
    needs = {**{name: "success" for name in JOBS}, "seal": "skipped", "merge": "success"}
    steps = github_job(CI["verdict"], verdict, context(jobs, PULL), store.act(verdict, checkout),
                       needs=needs)
    assert ran(steps) == {"Download the verdict": 0,
                          "Verify the pull request's unsigned verdict (fails unless PASSED)": 0,
                          "Every job ended well (a job that failed after its evidence was "
                          "written fails here)": 0}


@pytest.mark.parametrize(("given", "failing", "message"), [
    ({}, "Seal each job's evidence (refused unless it verifies and names this signer)",
     "no readable artifacts/artifact-validation.json"),
    ({"secrets.FINSIG_SIGNING_KEY": "other"},
     "Seal each job's evidence (refused unless it verifies and names this signer)",
     "the run expects signer"),
    ({"vars.FINSIG_SIGNING_FINGERPRINT": ""}, "A pinned signer is configured",
     "set the variable FINSIG_SIGNING_FINGERPRINT"),
], ids=["a job without its document", "another key", "no pinned signer"])
def test_github_seal_job_fails_closed_and_deletes_the_key(
    jobs: Jobs, tmp_path: Path, given: dict[str, str], failing: str, message: str,
) -> None:
    store = store_with(jobs, tmp_path)
    if not given:
        (store.root / "evidence-lint/artifacts/artifact-validation.json").unlink()
    if given.get("secrets.FINSIG_SIGNING_KEY") == "other":
        given = {**given, "secrets.FINSIG_SIGNING_KEY": signing.write_keypair(
            tmp_path / "other").private.read_text()}
    sealer = workspace(tmp_path, "seal")
    steps = github_job(CI["seal"], sealer, context(jobs, PUSH, **given),
                       store.act(sealer, checkout))
    outcome = ran(steps)
    assert outcome[failing] != 0 and message in next(s.output for s in steps if s.name == failing)
    assert [name for name, code in outcome.items() if code] == [failing]
    after = [s.name for s in steps[[s.name for s in steps].index(failing) + 1:] if s.ran]
    assert after == ["Delete the key"]
    assert not (tmp_path / "seal/runner-temp/finsig-signing.key").exists()
    assert not (store.root / "verdict").exists(), "nothing sealed is uploaded"


def test_github_fork_is_refused_before_anything_is_read(jobs: Jobs, tmp_path: Path) -> None:
    fork = {**PULL, "github.event.pull_request.head.repo.full_name": "someone/finsig"}
    verdict = workspace(tmp_path, "verdict")
    steps = github_job(CI["verdict"], verdict, context(jobs, fork),
                       store_with(jobs, tmp_path).act(verdict, checkout))
    assert ran(steps) == {"Refuse a pull request from a fork": 1}
    assert "pull requests from forks do not run on FINSIG's runners" in steps[0].output


def gitlab_variables(jobs: Jobs, tmp: Path, workspace: Path, protected: bool,
                     job: dict[str, Any]) -> dict[str, str]:
    """The project's variables as a site sets them (docs/CI_CD_GUIDE.md), then the file's."""
    key_file = tmp / "gitlab-key"  # a File variable: GitLab hands the job its path
    key_file.write_text(base64.b64encode(jobs.keys.private.read_bytes()).decode())
    project = {"FINSIG_SIGNING_FINGERPRINT": jobs.keys.fingerprint,
               "FINSIG_SIGNING_KEY": str(key_file), "CI_PROJECT_DIR": str(workspace),
               "CI_COMMIT_REF_PROTECTED": "true" if protected else "false"}
    top = {k: gitlab_expand(str(v), project) for k, v in load(GITLAB)["variables"].items()}
    own = {k: str(v) for k, v in (job.get("variables") or {}).items()}
    if "SEAL_DIR" in own:
        own["SEAL_DIR"] = str(tmp / "finsig-seal")  # not the machine's shared /tmp
    return {**project, **top, **own}


def test_gitlab_seal_job_decodes_the_key_privately_and_removes_it(
    jobs: Jobs, tmp_path: Path,
) -> None:
    """The key arrives as GitLab hands over a File variable: base64 on one line (so that it can be
    masked), decoded by the job into a file only it can read, removed by after_script. The job's
    finsig-runner lines are the GitHub seal job's (test_trust_boundary.py), run above; here a
    probe stands in for them and keeps a copy of what they would have been given."""
    gitlab = load(GITLAB)
    seal = gitlab["seal"]
    sealer = workspace(tmp_path, "seal")
    variables = {**gitlab_variables(jobs, tmp_path, sealer, True, seal),
                 "PROBE": str(tmp_path / "given.key")}
    probe = {**seal, "script": ['stat -c %a "$SEAL_DIR/finsig-signing.key"',
                                'cp "$SEAL_DIR/finsig-signing.key" "$PROBE"']}
    script, after = gitlab_job(probe, gitlab["default"], sealer, variables)
    assert script.returncode == 0, script.output
    assert script.output.strip().splitlines()[-1] == "600"
    given = signing.load_private_key(tmp_path / "given.key")
    assert signing.fingerprint(given) == jobs.keys.fingerprint
    assert after.returncode == 0 and not (tmp_path / "finsig-seal").exists()
