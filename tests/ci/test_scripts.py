"""scripts/: strict bash, --help, shellcheck-clean, and the CI scripts only hand over to the
runner or make (proved with stand-ins that record what they were asked to do)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # nosec B404
from pathlib import Path

import pytest

from finsig_runner.bundle.image_set import image_set
from tests.support.ci_files import ROOT

pytestmark = pytest.mark.timeout(120)

SCRIPTS = sorted((ROOT / "scripts").glob("*.sh"))
OURS = ("build.sh", "docker.sh", "reports.sh", "validate.sh", "setup_pipeline.sh", "pipeline.sh")
# What the runner or make does; a script that runs one of these itself is a second implementation.
TOOLS = re.compile(r"\b(pytest|flake8|mypy|bandit|safety|twine|python3? -m build|docker build"
                   r"|docker save|mmdebstrap|promtool)\b")


def test_the_seed_scripts_exist() -> None:
    assert {s.name for s in SCRIPTS} >= set(OURS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_strict_bash(script: Path) -> None:
    lines = script.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    assert os.access(script, os.X_OK)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help(script: Path) -> None:
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True,  # nosec B603
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: scripts/"), done.stdout


def test_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing (make deps)"
    # -x follows `source scripts/lib/*.sh` (paths relative to the repository root).
    libraries = sorted((ROOT / "scripts" / "lib").glob("*.sh"))
    done = subprocess.run(  # nosec B603
        [shellcheck, "-x", "--severity=style", *map(str, [*SCRIPTS, *libraries])],
        capture_output=True, text=True, timeout=90, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def code_lines(script: Path) -> list[str]:
    """The script's commands: comments and here-documents (usage text) left out."""
    lines, heredoc = [], None
    for line in script.read_text(encoding="utf-8").splitlines():
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        found = re.search(r"<<-?'?(\w+)'?", line)
        if found:
            heredoc = found.group(1)
        if not line.lstrip().startswith("#"):
            lines.append(line)
    return lines


@pytest.mark.parametrize("name", OURS[:-1])
def test_no_second_implementation(name: str) -> None:
    found = [line for line in code_lines(ROOT / "scripts" / name) if TOOLS.search(line)]
    assert not found, found


@pytest.fixture
def stand_ins(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """finsig-runner, make and docker that append their argv to a file and succeed."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("finsig-runner", "make", "docker"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n'
                        + ('[ "$1" = image ] && echo finsig/base:0.1.0\n' if name == "docker"
                           else "") + "exit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "FINSIG_RUNNER": str(bin_dir / "finsig-runner")}
    return env, calls


# The image set as scripts/lib/images.sh reads it (tests/ci/test_image_set.py compares the two).
SET = [spec.ref("0.1.0") for spec in image_set()]
PUSHED = [f"docker image inspect --format {{{{.Id}}}} {' '.join(SET)}"]  # every image there?
for _ref in SET:
    PUSHED += [f"docker tag {_ref} registry.example/finsig/{_ref}",
               f"docker push registry.example/finsig/{_ref}"]


@pytest.mark.parametrize(("argv", "expected"), [
    (["build.sh", "--dry-run"], ["finsig-runner run --only build --dry-run"]),
    (["reports.sh", "--jobs", "2"],
     ["finsig-runner run --only tests,lint,typing,security --jobs 2"]),
    (["validate.sh", "merge", "a", "b"], ["finsig-runner validate --merge a b"]),
    (["validate.sh", "verify", "d", "--pubkey", "k"], ["finsig-runner verify d --pubkey k"]),
    (["validate.sh", "log", "f"], ["finsig-runner verify-log f"]),
    (["docker.sh", "build"], ["make images"]),
    (["docker.sh", "stage"], ["finsig-runner run --stages image"]),
    (["setup_pipeline.sh"], ["make deps engine images"]),
    (["setup_pipeline.sh", "--wheelhouse", "--run"],
     ["make wheelhouse deps engine images", "make pipeline"]),
    (["docker.sh", "push", "registry.example/finsig/"], PUSHED),
])
def test_delegates(stand_ins: tuple[dict[str, str], Path], argv: list[str],
                   expected: list[str]) -> None:
    env, calls = stand_ins
    done = subprocess.run([str(ROOT / "scripts" / argv[0]), *argv[1:]], env=env,  # nosec B603
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert calls.read_text(encoding="utf-8").splitlines() == expected


def test_bundle_refuses_without_a_key(stand_ins: tuple[dict[str, str], Path],
                                      tmp_path: Path) -> None:
    env, calls = stand_ins
    env.pop("FINSIG_BUNDLE_KEY", None)
    done = subprocess.run([str(ROOT / "scripts/docker.sh"), "bundle", str(tmp_path / "b.tar")],
                          env=env, capture_output=True, text=True, timeout=30)  # nosec B603
    assert done.returncode == 2 and "FINSIG_BUNDLE_KEY" in done.stderr
    assert not calls.exists()


def test_bundle_takes_the_key_text_from_a_ci_secret(
    stand_ins: tuple[dict[str, str], Path], tmp_path: Path,
) -> None:
    env, calls = stand_ins
    env["FINSIG_BUNDLE_KEY"] = "-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----"
    out = tmp_path / "out" / "b.tar"
    done = subprocess.run([str(ROOT / "scripts/docker.sh"), "bundle", str(out)],  # nosec B603
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    (call,) = calls.read_text(encoding="utf-8").splitlines()
    assert call.startswith(f"finsig-runner bundle export {out} --key /")
    assert not Path(call.split("--key ")[1]).exists(), "the key file is removed afterwards"
