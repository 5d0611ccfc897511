"""SIGTERM/SIGINT during a run: children stopped, remaining stages not started, exit 130."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.context import StageContext
from finsig_runner.engine.run import Engine
from finsig_runner.core.model import Status
from finsig_runner.engine.plan import build_plan

from tests.support.fake_stages import FakeStage, events, registry


def _sleep(ctx: StageContext) -> None:
    ctx.run_tool(["sleep", "60"])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_children_and_records_interruption(tmp_path: Path, signum: int) -> None:
    later = FakeStage("image", requires=("build",))
    reg = registry(FakeStage("build", action=_sleep), later)
    engine = Engine(reg, tmp_path, RunnerConfig(), jobs=1, handle_signals=True)
    pids: list[int] = []

    def deliver() -> None:
        while not engine.processes._procs:  # wait until `sleep` runs
            time.sleep(0.01)
        pids.extend(p.pid for p in engine.processes._procs)
        os.kill(os.getpid(), signum)

    helper = threading.Thread(target=deliver, daemon=True)
    helper.start()
    out = engine.run(build_plan(reg))
    helper.join(10)

    assert out.exit_code == 130 and out.status == "INTERRUPTED" and out.interrupted
    assert out.results["build"].status is Status.ABORTED
    assert "interrupted" in out.results["build"].reason
    assert out.results["image"].status is Status.ABORTED
    assert "not started" in out.results["image"].reason
    assert later.seen == []
    assert pids and not _pid_alive(pids[0])
    evs = events(tmp_path)
    assert not any(e["event"] == "stage_start" and e["stage"] == "image" for e in evs)
    assert evs[-1]["event"] == "run_end" and evs[-1]["status"] == "INTERRUPTED"
    assert evs[-1]["signal"] == signal.Signals(signum).name
    # the handlers are restored after the run
    assert signal.getsignal(signal.SIGTERM) is not None
