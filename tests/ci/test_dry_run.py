"""Every finsig-runner command the CI files run, dry-run: on the host's runner and inside the
runner image (what a CI job container runs). A dry run fails on an unknown stage or flag, so a
typo in a workflow cannot pass here."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import subprocess  # nosec B404
from pathlib import Path

import pytest

from tests.support.ci_files import (
    CI_FILES, ROOT, RUNNER_IMAGE, cli_help, runner_commands, subcommands, tool,
)

pytestmark = pytest.mark.timeout(300)

# Each distinct command once (the GitHub and GitLab files share most of them).
_FIRST: dict[tuple[str, ...], tuple[str, list[str]]] = {}
for _where, _argv in runner_commands():
    _FIRST.setdefault(tuple(_argv), (_where, _argv))
COMMANDS = list(_FIRST.values())


def dry(argv: list[str]) -> list[str]:
    """The command as a dry run: `run` takes --dry-run; a subcommand without one is asked for
    its help, after checking that it offers every flag the CI file gives it."""
    if argv[0] == "run" or "--dry-run" in cli_help(argv[0]):
        return [*argv, "--dry-run"]
    flags = [a for a in argv[1:] if a.startswith("--")]
    missing = [f for f in flags if f not in cli_help(argv[0])]
    assert not missing, f"finsig-runner {argv[0]} has no {missing}"
    return [argv[0], "--help"]


def test_commands_were_found() -> None:
    assert len(COMMANDS) >= 10
    assert {argv[0] for _w, argv in COMMANDS} <= subcommands()


def all_dry(run: Callable[[list[str]], subprocess.CompletedProcess[str]]) -> list[str]:
    """Every command dry-run, four at a time (each distinct dry run once: the seal job's four
    `seal DIR --key K` are one `seal --help`); one message per failure."""
    dry_runs = [tuple(dry(argv)) for _where, argv in COMMANDS]
    unique = list(dict.fromkeys(dry_runs))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(unique, pool.map(lambda argv: run(list(argv)), unique)))
    return [f"{where}: finsig-runner {' '.join(argv)}\n{results[d].stdout}{results[d].stderr}"
            for (where, argv), d in zip(COMMANDS, dry_runs) if results[d].returncode != 0]


def on_host(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("finsig-runner"), *argv], cwd=ROOT,  # nosec B603
                          capture_output=True, text=True, timeout=60)


def test_dry_run_on_the_host() -> None:
    failures = all_dry(on_host)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--only", "tset", "--dry-run"], "unknown stage 'tset'"),
    (["run", "--only", "tests,lint,bogus", "--dry-run"], "unknown stage 'bogus'"),
    (["run", "--only", "tests", "--bogus-flag", "--dry-run"],
     "unrecognized arguments: --bogus-flag"),
])
def test_dry_run_fails_on_an_unknown_stage_or_flag(argv: list[str], message: str) -> None:
    done = on_host(argv)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr


@pytest.fixture(scope="module")
def workspace_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a CI job checks out, as far as a dry run reads it: the configuration and CI files."""
    copy = tmp_path_factory.mktemp("ci-workspace")
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for path in CI_FILES:
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return copy


def in_image(workspace: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosec B603 B607
        ["docker", "run", "--rm", "--network", "none", "-v", f"{workspace}:/workspace",
         "-w", "/workspace", RUNNER_IMAGE, *argv],
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def runner_image() -> str:
    done = subprocess.run(["docker", "image", "inspect", RUNNER_IMAGE],  # nosec B603 B607
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.fail(f"{RUNNER_IMAGE} is missing: build it first (make images)")
    return RUNNER_IMAGE


@pytest.mark.docker
def test_dry_run_in_the_runner_image(runner_image: str, workspace_copy: Path) -> None:
    """One container per command: each is what one CI step runs in its job container."""
    failures = all_dry(lambda argv: in_image(workspace_copy, argv))
    assert not failures, "\n".join(failures)


@pytest.mark.docker
def test_dry_run_in_the_runner_image_fails_on_an_unknown_stage_or_flag(
    runner_image: str, workspace_copy: Path,
) -> None:
    stage = in_image(workspace_copy, ["run", "--only", "tset", "--dry-run"])
    assert stage.returncode == 2 and "unknown stage 'tset'" in stage.stderr, stage.stderr
    flag = in_image(workspace_copy, ["run", "--only", "tests", "--bogus-flag", "--dry-run"])
    assert flag.returncode == 2 and "--bogus-flag" in flag.stderr, flag.stderr
