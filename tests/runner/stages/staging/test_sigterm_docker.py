"""SIGINT or SIGTERM to a real runner process mid-staging: exit 130, ABORTED, nothing left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.runner.stages.staging.conftest import ROOT, leftovers, sweep_run

pytestmark = [pytest.mark.docker]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_staging_tears_the_stack_down(tmp_path: Path, signum: int) -> None:
    name = signal.Signals(signum).name
    run_id = f"test-{name.lower()}-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TESTCONTAINERS_RYUK_DISABLED": "true"}
    child = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "tests.support.engine_child", str(tmp_path), run_id,
         str(ROOT / "docker-compose.staging.yml")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while len(leftovers(run_id)["containers"]) < 3:  # mid bring-up: some services exist
            assert child.poll() is None, child.stdout.read() if child.stdout else ""
            assert time.monotonic() < deadline, "the stack never started"
            time.sleep(0.3)
        child.send_signal(signum)
        out, _ = child.communicate(timeout=60)
        left = leftovers(run_id)  # before the sweep below, which is only a last resort
    finally:
        if child.poll() is None:
            child.kill()
        sweep_run(run_id)
    text = out.decode()
    assert child.returncode == 130, text
    assert f"OUTCOME INTERRUPTED ABORTED interrupted ({name})" in text
    assert "interrupted: tearing down" in (tmp_path / "reports" / "deploy-report.log").read_text()
    assert left == {"containers": [], "networks": [], "volumes": [], "images": []}
