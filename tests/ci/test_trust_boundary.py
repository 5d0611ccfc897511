"""The CI files keep the trust boundary of docs/threat-model.md: only the seal job is given the key,
and it runs no project code; pull requests from forks reach no FINSIG runner; the verdict trusts
the pinned fingerprint alone; a hung tool is stopped before its job is. The conditions are
evaluated (tests/ci/replay.py), not matched as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from finsig_runner.core.config_loader import load as load_config

from tests.support.ci_replay import github_if, gitlab_expand, gitlab_rules
from tests.support.ci_files import (
    GITLAB, ROOT, WORKFLOWS, WORKFLOWS_DIR, load, runner_commands, triggers,
)

pytestmark = pytest.mark.timeout(60)

CI = WORKFLOWS_DIR / "ci-validation.yml"
FINGERPRINT = "ab" * 32
KEY_NAMES = ("FINSIG_SIGNING_KEY",)
NEVER_ANYWHERE = ("FINSIG_RUNNER_SIGNING_KEY", "signing_key", "require_signature",
                  "pull_request_target", "secrets: inherit")
# What the seal job's shell may start: our runner and the shell's own plumbing, nothing else.
SEAL_COMMANDS = {"finsig-runner", "git", "umask", "printf", "rm", "test", "if", "echo", "exit",
                 "fi", "(umask"}
REPO = "finsig/finsig"
EVENTS = {
    "push": {"github.event_name": "push", "github.repository": REPO},
    "dispatch": {"github.event_name": "workflow_dispatch", "github.repository": REPO},
    "pull request": {"github.event_name": "pull_request", "github.repository": REPO,
                     "github.event.pull_request.head.repo.full_name": REPO},
    "fork": {"github.event_name": "pull_request", "github.repository": REPO,
             "github.event.pull_request.head.repo.full_name": "someone/finsig"},
}


def github_jobs() -> Iterator[tuple[str, str, dict[str, Any], str | None]]:
    """(workflow, job id, job, the caller's `if:`) for every job with steps. A reusable workflow's
    jobs run under the condition of the ci-validation job that calls it."""
    callers = {job["uses"].rsplit("/", 1)[1]: job.get("if")
               for job in load(CI)["jobs"].values() if "uses" in job}
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            if "steps" in job:
                yield path.name, job_id, job, callers.get(path.name)


def runs(job: dict[str, Any], caller: str | None, event: str) -> bool:
    return github_if(caller, EVENTS[event]) and github_if(job.get("if"), EVENTS[event])


def shell_lines(job: dict[str, Any]) -> list[str]:
    return [line.strip() for step in job.get("steps", []) for line in
            str(step.get("run", "")).splitlines() if line.strip()]


def gitlab_jobs() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in load(GITLAB).items() if isinstance(v, dict) and "script" in v}


def test_no_ci_file_holds_a_key_setting_or_hands_on_every_secret() -> None:
    for path in (*WORKFLOWS, GITLAB):
        text = path.read_text(encoding="utf-8")
        for word in NEVER_ANYWHERE:
            assert word not in text, f"{path.name}: {word}"


def test_only_the_seal_job_is_given_the_key() -> None:
    given = [(name, job_id) for name, job_id, job, _ in github_jobs()
             if any(k in yaml.safe_dump(job) for k in KEY_NAMES)]
    assert given == [("ci-validation.yml", "seal")]
    lab = [job_id for job_id, job in load(GITLAB).items()
           if any(k in yaml.safe_dump(job) for k in KEY_NAMES)]
    assert lab == ["seal"]


def test_the_github_seal_job_runs_no_project_code_on_a_machine_of_its_own() -> None:
    job = load(CI)["jobs"]["seal"]
    assert "FINSIG_SEAL_RUNS_ON" in job["runs-on"] and "finsig-docker" not in str(job["runs-on"])
    assert job["container"] == {"image": "${{ vars.FINSIG_RUNNER_IMAGE || 'finsig-runner:0.1.0' }}"}
    assert job["environment"] == "finsig-sealing"
    actions = {s["uses"].split("@")[0] for s in job["steps"] if "uses" in s}
    assert actions == {"actions/checkout", "actions/download-artifact", "actions/upload-artifact"}
    assert all(s["with"].get("digest-mismatch") == "error" for s in job["steps"]
               if s.get("uses", "").startswith("actions/download-artifact@"))
    for line in shell_lines(job):
        assert line.split()[0] in SEAL_COMMANDS, line
    commands = {argv[0] for where, argv in runner_commands() if where == "ci-validation.yml:seal"}
    assert commands == {"seal", "validate"}
    # the key: written under RUNNER_TEMP (outside the workspace) with umask 077, then deleted
    named = {s["name"]: s for s in job["steps"]}
    provide = named["Provide the signing key (this job only, outside the workspace)"]
    assert "umask 077" in provide["run"] and '"$RUNNER_TEMP/finsig-signing.key"' in provide["run"]
    delete = named["Delete the key"]
    assert delete["if"] == "${{ always() }}"
    assert delete["run"] == 'rm -f "$RUNNER_TEMP/finsig-signing.key"'
    order = [s.get("name") for s in job["steps"]]
    last_use = max(i for i, s in enumerate(job["steps"]) if "finsig-signing.key" in
                   str(s.get("run", "")) and s is not delete)
    assert order.index("Delete the key") > last_use


def test_the_gitlab_seal_job_runs_no_project_code_on_a_runner_of_its_own() -> None:
    job = gitlab_jobs()["seal"]
    assert job["tags"] == ["finsig-seal"]
    assert job["environment"] == {"name": "finsig-sealing", "action": "access"}
    for line in [*job["before_script"], *job["script"], *job["after_script"]]:
        assert str(line).split()[0] in SEAL_COMMANDS, line
    commands = {argv[0] for where, argv in runner_commands() if where == ".gitlab-ci.yml:seal"}
    assert commands == {"seal", "validate"}
    assert job["after_script"] == ['rm -rf "$SEAL_DIR"']
    assert "umask 077" in job["before_script"][-1]


STAGE_JOBS = {("tests-validation.yml", "tests"), ("lint-validation.yml", "lint"),
              ("security-check.yml", "security"), ("deploy-validation.yml", "deploy")}
RAN = {
    "fork": set(),
    "pull request": STAGE_JOBS | {("ci-validation.yml", "merge")},
    "push": STAGE_JOBS | {("ci-validation.yml", "seal"), ("docker-pipeline.yml", "images")},
    "dispatch": STAGE_JOBS | {("ci-validation.yml", "seal"), ("docker-pipeline.yml", "images")},
}


@pytest.mark.parametrize("event", EVENTS)
def test_ci_validation_runs_these_jobs(event: str) -> None:
    """Fork: nothing but the verdict, which refuses it (a skipped required check would count as
    passed). Pull request: the stage jobs, merged unsigned, never the seal. Push: sealed."""
    called = {p.name for p in WORKFLOWS if p.name != "build-validation.yml"}  # by hand only
    ran = {(name, job_id) for name, job_id, job, caller in github_jobs()
           if name in called and runs(job, caller, event)}
    assert ran == RAN[event] | {("ci-validation.yml", "verdict")}
    verdict = load(CI)["jobs"]["verdict"]
    refusal = verdict["steps"][0]
    assert refusal["name"] == "Refuse a pull request from a fork"
    assert github_if(refusal["if"], EVENTS[event]) == (event == "fork")


def test_no_job_runs_for_a_fork_however_it_is_started() -> None:
    """Each job's own guard, without its caller's: also a reusable workflow started another way.
    The verdict alone runs, to refuse; it checks nothing out and its first step fails."""
    ran = [(name, job_id) for name, job_id, job, _ in github_jobs()
           if github_if(job.get("if"), EVENTS["fork"])]
    assert ran == [("ci-validation.yml", "verdict")]
    verdict = load(CI)["jobs"]["verdict"]
    assert not any(s.get("uses", "").startswith("actions/checkout@") for s in verdict["steps"])
    assert verdict["steps"][0]["run"].rstrip().endswith("exit 1")


def test_no_workflow_runs_with_secrets_for_pull_request_code() -> None:
    for path in WORKFLOWS:
        assert "pull_request_target" not in triggers(load(path)), path.name


@pytest.mark.parametrize(("variables", "runs"), [
    ({"CI_PIPELINE_SOURCE": "merge_request_event", "CI_PROJECT_ID": "7",
      "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "9"}, "never"),
    ({"CI_PIPELINE_SOURCE": "merge_request_event", "CI_PROJECT_ID": "7",
      "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "7"}, "on_success"),
    ({"CI_PIPELINE_SOURCE": "push", "CI_PROJECT_ID": "7", "CI_COMMIT_BRANCH": "main"},
     "on_success"),
    ({"CI_PIPELINE_SOURCE": "push", "CI_PROJECT_ID": "7", "CI_COMMIT_TAG": "v0.1.0"},
     "on_success"),
    ({"CI_PIPELINE_SOURCE": "push", "CI_PROJECT_ID": "7", "CI_COMMIT_BRANCH": "topic",
      "CI_OPEN_MERGE_REQUESTS": "finsig/finsig!3"}, "never"),
], ids=["fork merge request", "merge request", "push", "tag", "branch of a merge request"])
def test_gitlab_runs_no_pipeline_for_a_fork(variables: dict[str, str], runs: str) -> None:
    assert gitlab_rules(load(GITLAB)["workflow"]["rules"], variables) == runs


@pytest.mark.parametrize("protected", ["true", "false"])
def test_gitlab_seals_on_protected_refs_only(protected: str) -> None:
    jobs = gitlab_jobs()
    variables = {"CI_COMMIT_REF_PROTECTED": protected}
    sealed = protected == "true"
    assert gitlab_rules(jobs["seal"].get("rules"), variables) == ("always" if sealed else "never")
    assert gitlab_rules(jobs["validate"].get("rules"), variables) == (
        "always" if sealed else "never")
    assert gitlab_rules(jobs["merge"].get("rules"), variables) == (
        "never" if sealed else "always")


def test_the_verdict_trusts_the_pinned_fingerprint_alone() -> None:
    verdict = load(CI)["jobs"]["verdict"]
    assert verdict["env"]["FINSIG_SIGNING_FINGERPRINT"] == "${{ vars.FINSIG_SIGNING_FINGERPRINT }}"
    checks = {"ci-validation.yml:verdict": 5, ".gitlab-ci.yml:validate": 5}
    for where, count in checks.items():
        sealed = [argv for w, argv in runner_commands() if w == where and "--pubkey" in argv]
        assert len(sealed) == count, where
        assert {argv[0] for argv in sealed} == {"verify"}
        for argv in sealed:
            assert argv[argv.index("--pubkey") + 1] == "/ci/FINSIG_SIGNING_FINGERPRINT"
            assert ("--allow-partial" in argv) == (argv[1] != "."), argv
    lab = load(GITLAB)["validate"]
    assert lab["needs"] == ["seal"]


def _seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)m", text)
    assert match, text
    return int(match.group(1)) * 60


def _tool_timeout(env: dict[str, str]) -> int:
    """What the runner itself reads from the job's environment (its real configuration loader)."""
    return load_config(ROOT, env, []).tool_timeout


def test_a_hung_tool_is_stopped_before_its_job_with_room_for_run_end() -> None:
    room = 600  # run_end, validate and the upload after the tool was stopped
    checked = 0
    for name, job_id, job, _ in github_jobs():
        if not any("finsig-runner run " in line for line in shell_lines(job)):
            continue
        env = {k: str(v).replace("${{ vars.FINSIG_SIGNING_FINGERPRINT }}", FINGERPRINT)
               for k, v in job["env"].items()}
        config = load_config(ROOT, env, [])
        assert config.expected_signer == FINGERPRINT, f"{name}:{job_id}"
        assert job["timeout-minutes"] * 60 - _tool_timeout(env) >= room, f"{name}:{job_id}"
        checked += 1
    assert checked == 5
    gitlab = load(GITLAB)
    variables = {k: gitlab_expand(str(v), {"FINSIG_SIGNING_FINGERPRINT": FINGERPRINT})
                 for k, v in gitlab["variables"].items()}
    assert load_config(ROOT, variables, []).expected_signer == FINGERPRINT
    for job_id, job in gitlab_jobs().items():
        if any(str(line).startswith("finsig-runner run ") for line in job["script"]):
            timeout = _seconds(job.get("timeout", gitlab["default"]["timeout"]))
            assert timeout - _tool_timeout(variables) >= room, job_id


def test_the_lint_jobs_keep_the_import_contracts() -> None:
    lint = load(WORKFLOWS_DIR / "lint-validation.yml")["jobs"]["lint"]
    assert "PYTHONPATH=runner/src:src lint-imports --no-cache" in shell_lines(lint)
    assert any(str(line).startswith("PYTHONPATH=runner/src:src lint-imports --no-cache")
               for line in gitlab_jobs()["lint"]["script"])


def _argv(where: str) -> list[list[str]]:
    """A job's runner commands, its private key directory named alike on both systems."""
    return [[a.replace("/ci/SEAL_DIR/", "/ci/KEYS/").replace("/ci/RUNNER_TEMP/", "/ci/KEYS/")
             for a in argv] for w, argv in runner_commands() if w == where]


def test_gitlab_seals_merges_and_verifies_as_github_does() -> None:
    """So that the GitHub jobs' replay (test_seal_jobs.py) speaks for GitLab's lines too."""
    assert _argv("ci-validation.yml:seal") == _argv(".gitlab-ci.yml:seal")
    assert _argv("ci-validation.yml:verdict")[:5] == _argv(".gitlab-ci.yml:validate")
    assert _argv("ci-validation.yml:merge") + [["verify", "."]] == _argv(".gitlab-ci.yml:merge")
