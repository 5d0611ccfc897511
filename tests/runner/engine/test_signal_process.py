"""SIGTERM to a real runner process (what `docker stop` sends to PID 1): exit 130, no child left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    from finsig_runner.cli import main as cli  # the module
    from finsig_runner.cli.commands import run as run_cmd
    from finsig_runner.core.model import StageResult, Status
    from finsig_runner.stages.registry import build_registry

    class Sleeper:
        name = "tests"
        requires = ()
        checks = ()
        always = False
        uses_project_env = False
        fragments = ()

        def seal(self, ctx):
            pass

        def inputs(self, ctx):
            from finsig_runner.core.model import StageInputs
            return StageInputs()

        def run(self, ctx):
            ctx.run_tool(["sh", "-c", "echo $$ > " + sys.argv[1] + "; exec sleep 60"])
            return StageResult(self.name, Status.PASSED)

    reg = build_registry([Sleeper()])
    run_cmd.registry = lambda config: reg
    raise SystemExit(cli.main(["run", "--workspace", sys.argv[2]]))
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(60)
def test_sigterm_to_the_runner_process(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    pidfile = tmp_path / "child.pid"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(pidfile), str(ws)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.02)
        child = int(pidfile.read_text())
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    assert "INTERRUPTED" in out
    assert not _alive(child)
    log = (ws / "artifacts" / "ci_cd_events.log").read_text()
    assert '"status":"INTERRUPTED"' in log and '"signal":"SIGTERM"' in log
