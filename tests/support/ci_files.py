"""What the CI tests read: the workflow files, the GitLab file, the runner's CLI, the commands."""

from __future__ import annotations

import functools
import re
import shlex
import shutil
import subprocess  # nosec B404 (tests run our own tools)
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOW_NAMES = (
    "build-validation", "lint-validation", "tests-validation", "security-check",
    "docker-pipeline", "deploy-validation", "ci-validation",
)
WORKFLOWS = tuple(WORKFLOWS_DIR / f"{name}.yml" for name in WORKFLOW_NAMES)
GITLAB = ROOT / ".gitlab-ci.yml"
CI_FILES = (*WORKFLOWS, GITLAB)
RUNNER_IMAGE = "finsig-runner:0.1.0"
STAGES = ("tests", "lint", "typing", "security", "build", "image", "monitoring", "staging",
          "validate")


def tool(name: str) -> str:
    """A console script of the environment the tests run in (.venv), else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (make deps)")
    return found


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping (YAML 1.1 reads the bare key `on` as True)."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {name: None for name in on}
    assert isinstance(on, dict)
    return on


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items()
            for step in job.get("steps", [])]


def _scripts() -> list[tuple[str, str]]:
    """(where, shell line) for every line of every `run:` step and GitLab script."""
    found: list[tuple[str, str]] = []
    for path in WORKFLOWS:
        for job_id, step in steps(load(path)):
            for line in str(step.get("run", "")).splitlines():
                found.append((f"{path.name}:{job_id}", line.strip()))
    for job_id, job in load(GITLAB).items():
        if not isinstance(job, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            for line in job.get(key, []) or []:
                found.append((f"{GITLAB.name}:{job_id}", str(line).strip()))
    return found


_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def runner_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `finsig-runner`) for every runner command the CI files run.

    Shell variables become fixed paths under /ci (a dry run reads no path it is given).
    """
    commands = []
    for where, line in _scripts():
        if not line.startswith("finsig-runner "):
            continue
        argv = shlex.split(_VAR.sub(lambda m: f"/ci/{m.group(1)}", line))
        commands.append((where, argv[1:]))
    return commands


def stage_names(argv: list[str]) -> list[str]:
    """The stages a `run` command names with --only/--stages."""
    names: list[str] = []
    for flag in ("--only", "--stages"):
        if flag in argv:
            names += argv[argv.index(flag) + 1].split(",")
    return names


@functools.cache
def cli_help(*subcommand: str) -> str:
    return subprocess.run(  # nosec B603
        [tool("finsig-runner"), *subcommand, "--help"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout


def subcommands() -> set[str]:
    """The subcommands `finsig-runner --help` lists."""
    text = cli_help()
    block = text.split("positional arguments:", 1)[1].split("options:", 1)[0]
    return {m.group(1) for m in re.finditer(r"^    ([a-z][a-z-]*)", block, re.MULTILINE)}


@functools.cache
def listed_stages() -> tuple[str, ...]:
    out = subprocess.run(  # nosec B603
        [tool("finsig-runner"), "list", "--workspace", str(ROOT)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    return tuple(line.split()[0] for line in out.splitlines() if line and not line[0].isspace())


@functools.cache
def make_targets() -> frozenset[str]:
    out = subprocess.run(["make", "-s", "-C", str(ROOT), "help"],  # nosec B603 B607
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return frozenset(line.split()[0] for line in out.splitlines() if line.strip())
