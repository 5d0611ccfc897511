"""finsig_runner.core.source and scripts/lib/source.sh: one owner each of the version,
SOURCE_DATE_EPOCH and the revision, and both give the same answers -- on a scratch repository
with commits at fixed times, on a tree without git, and on this repository."""

from __future__ import annotations

import os
import subprocess  # nosec B404 - the shell library under test, and git on scratch repositories
from collections.abc import Sequence
from pathlib import Path

import pytest

from finsig_runner.core import source
from finsig_runner.core.errors import ConfigError
from tests.support.sample_project import HAS_GIT, REPO, git

pytestmark = pytest.mark.timeout(60)

LIBRARY = REPO / "scripts" / "lib" / "source.sh"
# [project] is not the first table with a `version`, and its line carries a comment.
PYPROJECT = """\
[tool.other]
version = "9.9.9"

[project]  # the one that counts
name = "scratch"
version = '1.2.3'  # released
"""
TIMES = {"first": 1700000000, "second": 1700000100, "third": 1700000200}


def shell(root: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """One function of scripts/lib/source.sh, run in `root`."""
    base = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    return subprocess.run(  # nosec B603 B607 - bash with a fixed script
        ["bash", "-c", '. "$0" && "$@"', str(LIBRARY), *argv], cwd=root, env={**base, **env},
        capture_output=True, text=True, timeout=30, check=False)


def shell_answer(root: Path, *argv: str, **env: str) -> str:
    done = shell(root, *argv, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def both(root: Path, paths: Sequence[str]) -> tuple[tuple[int, str], tuple[int, str]]:
    """(epoch, revision) from Python and from the shell for the same paths."""
    python = (source.source_date_epoch(root, paths), source.source_revision(root, paths))
    shell_epoch = int(shell_answer(root, "source_date_epoch", *paths))
    return python, (shell_epoch, shell_answer(root, "source_revision", *paths))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pyproject.toml and a/one.txt (first), b/two.txt (second), a/one.txt again (third)."""
    assert HAS_GIT, "git is missing (make deps)"
    root = tmp_path_factory.mktemp("scratch")
    git(root, "init", "-q")
    steps = (("first", {"pyproject.toml": PYPROJECT, "a/one.txt": "1\n"}),
             ("second", {"b/two.txt": "2\n"}),
             ("third", {"a/one.txt": "1 again\n"}))
    for name, files in steps:
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", name, date=f"{TIMES[name]} +0000")
    return root


def commit_of(root: Path, subject: str) -> str:
    return git(root, "log", "--format=%H", f"--grep=^{subject}$").strip()


def test_the_version_is_the_project_tables(scratch: Path) -> None:
    assert source.project_version(scratch) == "1.2.3"
    assert shell_answer(scratch, "project_version") == "1.2.3"
    runner = source.project_version(REPO / "runner")
    assert shell_answer(REPO, "project_version", "runner") == runner


def test_no_static_version_is_an_error_in_both(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndynamic = ["version"]\n')
    with pytest.raises(ConfigError, match="no static \\[project\\] version"):
        source.project_version(tmp_path)
    done = shell(tmp_path, "project_version")
    assert done.returncode == 1 and done.stdout == ""
    assert "no static [project] version" in done.stderr
    with pytest.raises(ConfigError, match="cannot read"):
        source.project_version(tmp_path / "nowhere")


@pytest.mark.parametrize(("paths", "epoch", "subject"), [
    ((), TIMES["third"], "third"),  # HEAD
    (("b",), TIMES["second"], "second"),
    (("pyproject.toml",), TIMES["first"], "first"),
    (("a", "pyproject.toml"), TIMES["third"], "third"),
])
def test_epoch_and_revision_follow_the_last_commit_touching_the_paths(
    scratch: Path, paths: tuple[str, ...], epoch: int, subject: str,
) -> None:
    python, shell_side = both(scratch, paths)
    assert python == shell_side == (epoch, commit_of(scratch, subject))


def test_uncommitted_changes_make_the_revision_dirty_only_where_they_are(scratch: Path) -> None:
    extra = scratch / "b" / "new.txt"
    extra.write_text("untracked\n")
    try:
        python, shell_side = both(scratch, ("b",))
        assert python == shell_side == (TIMES["second"], commit_of(scratch, "second") + "-dirty")
        assert both(scratch, ("a",))[0][1] == commit_of(scratch, "third")  # a is clean
        assert both(scratch, ())[1][1].endswith("-dirty")  # the whole tree is not
    finally:
        extra.unlink()


def test_without_a_commit_the_environment_then_1980(scratch: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    for root, paths in ((tmp_path, ()), (scratch, ("never-committed",))):
        assert source.source_epoch(root, paths) == source.SourceEpoch(
            315532800, "fallback: 1980-01-01 (no git history)")
        assert shell_answer(root, "source_date_epoch", *paths) == "315532800"
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
        assert source.source_epoch(root, paths).origin == "environment: SOURCE_DATE_EPOCH"
        assert source.source_date_epoch(root, paths) == 1234567890
        assert shell_answer(root, "source_date_epoch", *paths,
                            SOURCE_DATE_EPOCH="1234567890") == "1234567890"
        monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert source.source_revision(tmp_path) == "unknown"
    assert shell_answer(tmp_path, "source_revision") == "unknown"


def test_an_inherited_epoch_never_beats_a_commit(scratch: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    expected = source.SourceEpoch(TIMES["second"], "git: last commit")
    assert source.source_epoch(scratch, ("b",)) == expected
    assert shell_answer(scratch, "source_date_epoch", "b",
                        SOURCE_DATE_EPOCH="1234567890") == str(TIMES["second"])


def test_git_runs_through_the_given_runner(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def fake(argv: Sequence[str]) -> str | None:
        calls.append(list(argv))
        return {"log": "1700000300\n", "status": ""}.get(argv[5])

    assert source.source_date_epoch(tmp_path, ["x"], git=fake) == 1700000300
    top = str(tmp_path.resolve())
    assert calls == [["git", "-c", f"safe.directory={top}", "-C", top,
                      "log", "-1", "--format=%ct", "--", "x"]]


def test_rfc3339_in_both() -> None:
    assert source.rfc3339(1700000000) == "2023-11-14T22:13:20Z"
    assert shell_answer(REPO, "rfc3339", "1700000000") == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize("paths", [(), ("images/base", "scripts/build-base.sh"), ("src/finsig",),
                                   ("runner/src", "requirements")])
def test_python_and_shell_agree_on_this_repository(paths: tuple[str, ...]) -> None:
    python, shell_side = both(REPO, paths)
    assert python == shell_side
    assert shell_answer(REPO, "project_version") == source.project_version(REPO)
