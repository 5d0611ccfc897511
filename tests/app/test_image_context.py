"""scripts/build-app-image.sh --prepare-only: the offline build context, preparable twice."""

from __future__ import annotations

import os
import re
import subprocess  # nosec B404 - the project's build script
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build-app-image.sh"
pytestmark = pytest.mark.timeout(180)


def prepare(context: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosec B603 - fixed argv
        [str(SCRIPT), "--context", str(context), "--prepare-only"],
        cwd=ROOT, capture_output=True, text=True, timeout=150, check=False,
        env={**os.environ, **env},
    )


def test_context_is_complete_and_can_be_prepared_again(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    for _ in range(2):  # the second run replaces the first run's context
        result = prepare(context)
        assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in context.iterdir()) == ["Dockerfile", "wheels"]
    lock = (context / "wheels" / "requirements.txt").read_text()
    finsig = [w.name for w in (context / "wheels").glob("finsig-*.whl")]
    assert len(finsig) == 1
    assert f"finsig=={finsig[0].split('-')[1]} \\" in lock
    assert lock.count("--hash=sha256:") >= len(list((context / "wheels").glob("*.whl")))


def test_a_directory_with_other_files_is_never_emptied(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    result = prepare(tmp_path)
    assert result.returncode == 1
    assert "is not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_input_key_ignores_an_inherited_source_date_epoch(tmp_path: Path) -> None:
    """make exports SOURCE_DATE_EPOCH = the last commit's time; a commit elsewhere must not change
    the app image's input key (that rebuilt the image in every `make images`)."""
    keys = []
    for n, epoch in enumerate(("1700000000", "1800000000")):
        result = prepare(tmp_path / f"ctx{n}", SOURCE_DATE_EPOCH=epoch)
        assert result.returncode == 0, result.stdout + result.stderr
        found = re.search(r"\(inputs ([0-9a-f]{12})\)", result.stdout)
        assert found, result.stdout
        keys.append(found.group(1))
    assert keys[0] == keys[1]
