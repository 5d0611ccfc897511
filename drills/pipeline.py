"""Running the pipeline the way people do, and reading back what it did.

`ImageRun` starts the runner image exactly as scripts/pipeline.sh does — `docker run --rm -v
WORKSPACE:/workspace -v /var/run/docker.sock:/var/run/docker.sock finsig-runner:<version>
[ARGS]` — plus a container name, a --cidfile and the drill's labels, so that the drill can
signal it and find what it left. `command()` runs `finsig-runner` on the host (verify,
verify-log, clean, bundle): what an auditor or an operator runs afterwards. Every step ends as a
`Step`.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess  # nosec B404
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drills.leftovers import drill_labels
from drills.machine import image_ref

SOCKET = "/var/run/docker.sock"
RUN_ID = re.compile(r" run (\d{8}T\d{6}Z-[0-9a-f]{8})")
LOG = Path("artifacts") / "ci_cd_events.log"
TAIL = 4000
RUNNER_CLI = Path(sys.executable).parent / "finsig-runner"


@dataclass(frozen=True)
class Step:
    """One command of a drill item and what it did."""

    name: str  # run | verify-log | verify | clean | bundle verify | ...
    argv: list[str]
    exit_code: int | None  # None: it did not end in time (then it was killed)
    seconds: float
    output: str  # the last TAIL characters
    run_id: str = ""
    stages: dict[str, dict[str, str]] = field(default_factory=dict)  # stage -> status, reason
    run_status: str = ""  # the log's run_end status; "no event log" / "no run_end line"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunLog:
    run_id: str
    stages: dict[str, dict[str, str]]
    run_status: str
    last_event: str


def read_log(workspace: Path) -> RunLog:
    """The stages' ends and the run's end as the event log records them."""
    path = workspace / LOG
    if not path.is_file():
        return RunLog("", {}, "no event log", "")
    run_id, stages, status, last = "", {}, "no run_end line", ""
    for raw in path.read_bytes().splitlines():
        try:
            record = json.loads(raw)
        except ValueError:
            last = "not JSON"
            continue
        last = str(record.get("event", ""))
        if last == "run_start":
            run_id = str(record.get("run_id", ""))
        elif last == "stage_end":
            stages[str(record.get("stage"))] = {"status": str(record.get("status")),
                                                "reason": str(record.get("reason") or "")}
        elif last == "run_end":
            status = str(record.get("status"))
    return RunLog(run_id, stages, status, last)


class ImageRun:
    """The runner image over a workspace, started in the background."""

    def __init__(self, workspace: Path, args: tuple[str, ...], item: str,
                 socket: bool = True) -> None:
        self.workspace = workspace
        self.name = f"finsig-drill-{item}-{uuid.uuid4().hex[:6]}"
        self._run_id = self._host = ""
        argv = ["docker", "run", "--rm", "--name", self.name]
        for key, value in drill_labels(item).items():
            argv += ["--label", f"{key}={value}"]
        argv += ["--volume", f"{workspace}:/workspace"]
        if socket:
            argv += ["--volume", f"{SOCKET}:/var/run/docker.sock"]
        self.output_path = workspace.parent / f"{self.name}.out"
        self.cidfile = workspace.parent / f"{self.name}.cid"
        argv += ["--cidfile", str(self.cidfile)]
        self.argv = [*argv, image_ref("runner"), *args]
        self.started = time.monotonic()
        with self.output_path.open("wb") as out:
            # the docker CLI, fixed argv; its own session: a signal for the drill is not one for
            # the run
            self.process = subprocess.Popen(  # nosec B603
                self.argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def output(self) -> str:
        try:
            return self.output_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:  # the copy is gone: what was read before stands
            return ""

    def run_id(self) -> str:
        if not self._run_id:
            match = RUN_ID.search(self.output())
            self._run_id = match.group(1) if match else read_log(self.workspace).run_id
        return self._run_id

    def host(self) -> str:
        """The runner container's host name (its short ID): the runs' HOST_LABEL value."""
        if not self._host:
            try:
                self._host = self.cidfile.read_text(encoding="ascii").strip()[:12]
            except FileNotFoundError:  # not started yet, or the copy is gone
                pass
        return self._host

    def running(self) -> bool:
        return self.process.poll() is None

    def signal_client(self, signum: int) -> None:
        """As Ctrl-C in pipeline.sh's terminal: the docker client passes it to the runner."""
        if self.running():
            self.process.send_signal(signum)

    def docker_kill(self, signal_name: str) -> None:
        docker_cli("kill", "--signal", signal_name, self.name)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """The drill's own way out (its timeout, or Ctrl-C of the drill): kill the run."""
        if self.running():
            docker_cli("kill", "--signal", "KILL", self.name)
            if self.wait(60) is None:
                self.process.kill()
                self.process.wait(timeout=30)

    def step(self, exit_code: int | None) -> Step:
        self.host()
        log = read_log(self.workspace)
        return Step("run", self.argv, exit_code, round(self.elapsed(), 1),
                    self.output()[-TAIL:], self.run_id(), log.stages, log.run_status)


def docker_cli(*args: str) -> int:
    # fixed argv: the docker CLI on the drill's own containers
    done = subprocess.run(["docker", *args], capture_output=True,  # nosec B603 B607
                          timeout=120, check=False)
    return done.returncode


def finish(run: ImageRun, timeout: float) -> Step:
    """Wait for the run to end (killed when it outlives `timeout`); its Step."""
    code = run.wait(max(0.0, timeout - run.elapsed()))
    if code is None:
        run.stop()
    return run.step(code)


def until(predicate: Callable[[], bool], run: ImageRun, timeout: float,
          interval: float = 0.5) -> bool:
    """Poll `predicate` while the run runs; False when the run ended or time ran out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.running():
        try:
            if predicate():
                return True
        except (OSError, ValueError):
            pass
        time.sleep(interval)
    return False


def command(name: str, *args: str, timeout: float = 600) -> Step:
    """`finsig-runner ARGS` on the host (this checkout's .venv), as a Step."""
    argv = [str(RUNNER_CLI), *args]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True,  # nosec B603
                              timeout=timeout, check=False)
        code: int | None = done.returncode
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, output = None, f"did not end within {timeout:.0f}s: {exc}"
    return Step(name, argv, code, round(time.monotonic() - started, 1), output[-TAIL:])


SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
