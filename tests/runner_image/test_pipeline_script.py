"""scripts/pipeline.sh with a stand-in `docker` on PATH: the runner's exit code comes back
unchanged and the last line says PASSED, FAILED or PARTIAL and where the report is. (No docker
marker: the stand-in records its arguments and plays a run; no engine is needed.)"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess  # nosec B404 - the test runs the repository's own script
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(60)

# Plays `docker image inspect` (found) and `docker run` (writes the report when asked, exits CODE).
FAKE_DOCKER = """#!/bin/sh
echo "$@" >> "$FAKE_LOG"
[ "$1" = run ] || exit 0
if [ -n "$FAKE_STATUS" ]; then
  mkdir -p artifacts
  printf '{"status": "%s", "partial": %s}\\n' "$FAKE_STATUS" "$FAKE_PARTIAL" \\
    > artifacts/artifact-validation.json
fi
exit "$FAKE_CODE"
"""


def _pipeline(tmp_path: Path, code: int, status: str) -> tuple[int, list[str], str]:
    repo = tmp_path / "repo"
    # The script, the libraries it sources, the image set and the version it names the image by.
    for name in ("scripts/pipeline.sh", "scripts/lib/source.sh", "scripts/lib/images.sh",
                 "runner/src/finsig_runner/bundle/image-set.txt", "runner/pyproject.toml"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, repo / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "docker.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log),
           "FAKE_CODE": str(code), "FAKE_STATUS": status,
           "FAKE_PARTIAL": "true" if status == "PARTIAL" else "false"}
    done = subprocess.run(  # nosec B603
        [str(repo / "scripts" / "pipeline.sh"), "--stages", "lint"], cwd=tmp_path, env=env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    lines = done.stdout.strip().splitlines()
    return done.returncode, lines, log.read_text()


@pytest.mark.parametrize(
    ("code", "status", "last"),
    [
        (0, "PASSED", "pipeline: PASSED (exit 0): validation report: "),
        (1, "FAILED", "pipeline: FAILED (exit 1): validation report: "),
        (3, "FAILED", "pipeline: FAILED (exit 3): validation report: "),
        (130, "", "pipeline: FAILED (exit 130): no validation report"),
        (0, "PARTIAL", "pipeline: PARTIAL (no verdict: not every stage ran; stages here PASSED) "
                       "(exit 0): validation report: "),
        (1, "PARTIAL", "pipeline: PARTIAL (no verdict: not every stage ran; stages here FAILED) "
                       "(exit 1): validation report: "),
    ],
)
def test_exit_code_unchanged_and_one_last_line(
    tmp_path: Path, code: int, status: str, last: str
) -> None:
    returncode, lines, calls = _pipeline(tmp_path, code, status)
    assert returncode == code
    assert lines[-1].startswith(last), lines
    if status:
        assert lines[-1].endswith("/repo/artifacts/artifact-validation.json")
        report = tmp_path / "repo" / "artifacts" / "artifact-validation.json"
        assert json.loads(report.read_text())["status"] == status
    run = [c for c in calls.splitlines() if c.startswith("run ")]
    assert len(run) == 1
    assert "--volume" in run[0] and ":/workspace" in run[0] and run[0].endswith("--stages lint")
