"""The app image's build args VERSION, REVISION and CREATED come from one function: the image
stage's own code path and scripts/build-app-image.sh --print-build-args give the same values for
the same commit, scoped to the inputs' last commit (not HEAD)."""

from __future__ import annotations

import shutil
import subprocess  # nosec B404 - the project's build script, and git on a scratch clone
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from finsig_runner.bundle.image_set import image_set
from finsig_runner.core.source import project_version, rfc3339
from finsig_runner.stages.image.stage import build_args
from tests.support.sample_project import REPO, context, git

pytestmark = pytest.mark.timeout(120)

WHEEL = "finsig-0.1.0-py3-none-any.whl"
LATER = "1900000000 +0000"  # a commit after every real one, touching none of the inputs


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This repository as one commit history: a clone of HEAD, the working tree's state committed
    on top (so the test sees the code under test), then an empty commit that moves HEAD away from
    the app's inputs."""
    root = tmp_path_factory.mktemp("clone") / "finsig"
    subprocess.run(["git", "clone", "-q", str(REPO), str(root)],  # nosec B603 B607
                   check=True, capture_output=True, timeout=60)
    listed = subprocess.run(  # nosec B603 B607
        ["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO, check=True,
        capture_output=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "working tree")
    git(root, "commit", "-q", "--allow-empty", "-m", "elsewhere", date=LATER)
    (root / "dist").mkdir()
    (root / "dist" / WHEEL).write_bytes(b"only its name counts here")
    yield root


def from_script(root: Path, *argv: str) -> dict[str, str]:
    done = subprocess.run(  # nosec B603 - the project's script, fixed arguments
        [str(root / "scripts" / "build-app-image.sh"), "--print-build-args", *argv], cwd=root,
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "FINSIG_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def from_stage(root: Path) -> tuple[dict[str, str], list[str]]:
    ctx = context(root, "image")
    return build_args(ctx, root / "scripts" / "build-app-image.sh", root / "dist" / WHEEL)


def test_the_stage_and_the_script_agree_on_one_commit(clone: Path) -> None:
    stage, scope = from_stage(clone)
    assert stage == from_script(clone, "--wheel", str(clone / "dist" / WHEEL))
    app = next(spec for spec in image_set() if spec.name == "app")
    assert tuple(scope) == app.inputs
    last = git(clone, "log", "-1", "--format=%H %ct", "--", *scope).split()
    assert stage == {"VERSION": "0.1.0", "REVISION": last[0], "CREATED": rfc3339(int(last[1]))}
    assert stage["REVISION"] != git(clone, "rev-parse", "HEAD").strip()  # not HEAD's


def test_uncommitted_input_changes_are_dirty_in_both(clone: Path) -> None:
    module = clone / "src" / "finsig" / "__init__.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(text + "# an edit\n", encoding="utf-8")
    try:
        stage, _ = from_stage(clone)
        assert stage["REVISION"].endswith("-dirty")
        assert stage == from_script(clone, "--wheel", str(clone / "dist" / WHEEL))
    finally:
        module.write_text(text, encoding="utf-8")


def test_without_a_wheel_the_version_is_the_projects(clone: Path) -> None:
    assert from_script(clone)["VERSION"] == project_version(clone)


def test_a_context_script_without_inputs_means_head(tmp_path: Path) -> None:
    root = tmp_path / "other"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "context.sh").write_text("#!/bin/sh\nexit 2\n", encoding="utf-8")
    (root / ".gitignore").write_text("reports/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one", date="1700000000 +0000")
    args, scope = build_args(context(root, "image"), root / "scripts" / "context.sh",
                             root / "demo-0.2.0-py3-none-any.whl")
    assert scope == []
    assert args == {"VERSION": "0.2.0", "REVISION": git(root, "rev-parse", "HEAD").strip(),
                    "CREATED": "2023-11-14T22:13:20Z"}
