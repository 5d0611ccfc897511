"""The GitHub workflows and the GitLab file: schema-valid, pinned, least privilege, on the runner
image, and naming only stages the runner knows."""

from __future__ import annotations

import re
import subprocess  # nosec B404
from pathlib import Path

import pytest

from tests.support.ci_files import (
    GITLAB, STAGES, WORKFLOWS, WORKFLOWS_DIR, listed_stages, load, runner_commands,
    stage_names, steps, tool, triggers,
)

pytestmark = pytest.mark.timeout(120)

PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
STAGE_WORKFLOWS = [p for p in WORKFLOWS if p.stem not in ("ci-validation", "docker-pipeline")]


def test_the_seven_workflows_exist_and_nothing_else() -> None:
    assert sorted(WORKFLOWS_DIR.glob("*.y*ml")) == sorted(WORKFLOWS)


@pytest.mark.parametrize(("schema", "paths"), [
    ("vendor.github-workflows", WORKFLOWS), ("vendor.gitlab-ci", (GITLAB,)),
], ids=["github-workflows", "gitlab-ci"])
def test_valid_against_the_published_schema(schema: str, paths: tuple[Path, ...]) -> None:
    done = subprocess.run(  # nosec B603
        [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_pinned_by_full_commit_sha(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for _job, step in steps(load(path)):
        uses = step.get("uses")
        if uses is None:
            continue
        assert PINNED.match(uses), f"{path.name}: {uses} is not pinned by a 40-hex commit"
        # the tag the SHA stands for is written beside it, for the person who updates it
        assert re.search(re.escape(uses) + r" # v\d", text), f"{path.name}: {uses} has no tag"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_minimal(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") == {"contents": "read"}, path.name
    for job_id, job in workflow["jobs"].items():
        perms = job.get("permissions", {})
        assert isinstance(perms, dict) and set(perms.values()) <= {"read", "none"}, job_id


@pytest.mark.parametrize("path", STAGE_WORKFLOWS, ids=lambda p: p.name)
def test_stage_jobs_run_in_the_runner_image(path: Path) -> None:
    workflow = load(path)
    jobs = {k: v for k, v in workflow["jobs"].items() if "steps" in v}
    assert jobs
    for job_id, job in jobs.items():
        image = job["container"]["image"]
        assert "vars.FINSIG_RUNNER_IMAGE" in image, f"{job_id}: {image}"
        runs = [s for s in job["steps"]]
        assert runs[0]["uses"].startswith("actions/checkout@"), job_id
        assert runs[0]["with"]["persist-credentials"] is False, job_id
        assert 'safe.directory "$GITHUB_WORKSPACE"' in runs[1]["run"], job_id
        commands = [s["run"] for s in runs if "finsig-runner" in s.get("run", "")]
        assert commands, f"{job_id} runs no stage"
        upload = runs[-1]
        assert upload["uses"].startswith("actions/upload-artifact@"), job_id
        assert upload["if"] == "${{ always() }}", f"{job_id}: evidence also after a failure"
        assert {"reports/", "artifacts/"} <= set(upload["with"]["path"].split()), job_id


@pytest.mark.parametrize("path", STAGE_WORKFLOWS, ids=lambda p: p.name)
def test_stage_workflows_are_reusable(path: Path) -> None:
    assert "workflow_call" in triggers(load(path))


def test_no_job_takes_another_jobs_evidence() -> None:
    """Every job runs its stages with --only and nothing takes --from: a hand-off between jobs
    would need that evidence sealed first, by a sealing job between them (docs/CI_CD_GUIDE.md)."""
    commands = [argv for where, argv in runner_commands() if argv[0] == "run"]
    assert commands and all("--only" in argv for argv in commands), commands
    assert not [argv for argv in commands if "--from" in argv]


def test_every_named_stage_exists_in_finsig_runner_list() -> None:
    known = set(listed_stages())
    assert known == set(STAGES)
    named = {name for _where, argv in runner_commands() for name in stage_names(argv)}
    assert named <= known, named - known
    # between them the CI files run every stage; validate is the merge
    assert named | {"validate"} == known


MERGED = ("tests", "lint", "security", "deploy")


def test_ci_validation_calls_the_stage_workflows_in_parallel() -> None:
    jobs = load(WORKFLOWS_DIR / "ci-validation.yml")["jobs"]
    called = {name: job["uses"] for name, job in jobs.items() if "uses" in job}
    # build-validation is by hand only: deploy builds the wheel it images, in the same job
    others = {f"./.github/workflows/{p.name}" for p in WORKFLOWS
              if p.stem not in ("ci-validation", "build-validation")}
    assert set(called.values()) == others
    assert not [name for name in called if "needs" in jobs[name]]
    for name in ("seal", "merge"):
        assert jobs[name]["needs"] == list(MERGED), name
        assert jobs[name]["if"].startswith("${{ !cancelled() && "), name
    assert jobs["verdict"]["needs"] == [*MERGED, "seal", "merge"]
    declared = ("FINSIG_BUNDLE_KEY", "FINSIG_REGISTRY_PASSWORD")
    assert jobs["docker"]["secrets"] == {name: f"${{{{ secrets.{name} }}}}" for name in declared}
    assert jobs["verdict"]["if"] == "${{ !cancelled() }}"


def _merge_dirs(where: str) -> list[str]:
    (merge,) = [argv for w, argv in runner_commands() if w == where and argv[0] == "validate"]
    return [d for d in merge[merge.index("--merge") + 1:] if not d.startswith("-")][:len(MERGED)]


def _artifact_stages() -> dict[str, list[str]]:
    """Artifact name -> the stages of the job that uploads it (stage workflows)."""
    found: dict[str, list[str]] = {}
    for path in STAGE_WORKFLOWS:
        for job in load(path)["jobs"].values():
            names = [s["with"]["name"] for s in job["steps"]
                     if s.get("uses", "").startswith("actions/upload-artifact@")]
            stages = [n for s in job["steps"] for n in stage_names(str(s.get("run", "")).split())]
            for name in names:
                found[name] = stages
    return found


@pytest.mark.parametrize("job_id", ["seal", "merge"])
def test_github_merge_holds_every_stage_exactly_once(job_id: str) -> None:
    """validate --merge refuses a stage run by two jobs and reports one run by none as MISSING:
    each merged directory is the download of one job's artifact."""
    job = load(WORKFLOWS_DIR / "ci-validation.yml")["jobs"][job_id]
    downloads = {s["with"]["path"]: s["with"]["name"] for s in job["steps"]
                 if s.get("uses", "").startswith("actions/download-artifact@")}
    dirs = _merge_dirs(f"ci-validation.yml:{job_id}")
    assert dirs == [f"evidence/{name}" for name in MERGED] and set(dirs) == set(downloads)
    artifacts = _artifact_stages()
    stages = [stage for d in dirs for stage in artifacts[downloads[d]]]
    assert sorted(stages) == sorted(set(STAGES) - {"validate"}), stages


@pytest.mark.parametrize("job_id", ["seal", "merge"])
def test_gitlab_merge_holds_every_stage_exactly_once(job_id: str) -> None:
    gitlab = load(GITLAB)
    dirs = _merge_dirs(f"{GITLAB.name}:{job_id}")
    jobs = [d.removeprefix("evidence/") for d in dirs]
    assert jobs == list(MERGED) and gitlab[job_id]["needs"] == jobs
    stages = [stage for job in jobs for line in gitlab[job]["script"]
              for stage in stage_names(line.split())]
    assert sorted(stages) == sorted(set(STAGES) - {"validate"}), stages


def test_docker_pipeline_builds_on_the_machine_and_pushes_only_to_a_configured_registry() -> None:
    job = load(WORKFLOWS_DIR / "docker-pipeline.yml")["jobs"]["images"]
    assert "self-hosted" in job["runs-on"] and "container" not in job
    named = {s.get("name"): s for s in job["steps"]}
    assert named["Build every image (engine, base, services, app, runner)"]["run"] == (
        "scripts/docker.sh build")
    upload = named["Upload the bundle, its envelope and public key"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    push = named["Push to the registry"]
    assert push["if"] == "${{ vars.FINSIG_REGISTRY != '' }}"
    assert push["run"].startswith("scripts/docker.sh push")
    assert "secrets.FINSIG_REGISTRY_PASSWORD" in push["env"]["FINSIG_REGISTRY_PASSWORD"]


def test_gitlab_runs_the_same_stages_on_the_runner_image_with_reports() -> None:
    gitlab = load(GITLAB)
    assert gitlab["default"]["image"]["name"] == "$FINSIG_RUNNER_IMAGE"
    assert gitlab["default"]["image"]["entrypoint"] == [""]
    reports = gitlab["tests"]["artifacts"]["reports"]
    assert reports["junit"].endswith("reports/test-results.xml")
    assert reports["coverage_report"]["coverage_format"] == "cobertura"
    assert reports["coverage_report"]["path"].endswith("reports/coverage.xml")
    lab = {name for where, argv in runner_commands() if where.startswith(GITLAB.name)
           for name in stage_names(argv)}
    github = {name for where, argv in runner_commands() if not where.startswith(GITLAB.name)
              for name in stage_names(argv)}
    assert lab == github


DOCKER_STAGES = {"tests", "image", "staging"}


def test_jobs_that_need_the_images_run_where_they_are() -> None:
    """tests (PostgreSQL for finsig's tests), image (FROM finsig/base) and staging (the service
    images) need an engine holding the project's images: the finsig-docker machines."""
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            runs = [s["run"] for s in job.get("steps", [])
                    if "finsig-runner run" in s.get("run", "")]
            if {n for r in runs for n in stage_names(r.split())} & DOCKER_STAGES:
                assert job["runs-on"] == ["self-hosted", "linux", "finsig-docker"], job_id
    for job_id, job in load(GITLAB).items():
        if isinstance(job, dict) and "script" in job:
            named = {n for line in job["script"] for n in stage_names(str(line).split())}
            if named & DOCKER_STAGES:
                assert job["tags"] == ["finsig-docker"], job_id
