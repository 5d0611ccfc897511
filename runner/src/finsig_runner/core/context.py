"""What a stage gets to work with: where to write, its config, and a way to run tools.

Tools always run through StageContext.run_tool, which streams their output into
reports/logs/<stage>.log as it is produced (through the run's one redacting writer), and can be
cancelled as a group when the run is interrupted (the runner may be PID 1 in a container).
"""

from __future__ import annotations

import os
import signal
import subprocess  # nosec B404 - running tools is this module's purpose
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.errors import Interrupted
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.core.redaction import RedactingStream, Redactor
from finsig_runner.core.tool_env import tool_environment


class Cancelled(Interrupted):
    """Raised inside a stage when the run is interrupted (exit 130 should it ever escape)."""


@dataclass
class ProcessGroup:
    """Every child process the run started, so that an interrupt can stop them all."""

    _procs: set[subprocess.Popen[bytes]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)
        if self.cancelled.is_set():  # started after cancel() took its snapshot: stop it too
            _signal_group(proc, signal.SIGTERM)

    def pids(self) -> list[int]:
        with self._lock:
            return [proc.pid for proc in self._procs]

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def cancel(self, grace: float = 5.0) -> None:
        """Stop every running child: SIGTERM to its process group, SIGKILL after `grace` seconds."""
        self.cancelled.set()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass(frozen=True)
class ToolRun:
    argv: tuple[str, ...]
    returncode: int
    output: str  # combined stdout+stderr, also appended to the stage log
    duration: float
    timed_out: bool = False


@dataclass(frozen=True)
class StageContext:
    run_id: str
    workspace: Path
    reports: Path  # <workspace>/reports
    artifacts: Path  # <workspace>/artifacts
    config: RunnerConfig
    stage: str
    processes: ProcessGroup
    writer: OutputWriter  # every report and log line goes through it (redaction, containment)
    # The project virtual environment's bin directory (None until the project-env step made it).
    project_bin: Path | None = None

    @classmethod
    def create(cls, workspace: Path, config: RunnerConfig, stage: str, run_id: str, *,
               processes: ProcessGroup | None = None, writer: OutputWriter | None = None,
               project_bin: Path | None = None) -> StageContext:
        """A context over `workspace` (its reports/ and artifacts/), redacting what the config
        names as secret unless a writer is given."""
        root = workspace.resolve()
        return cls(run_id=run_id, workspace=root, reports=root / "reports",
                   artifacts=root / "artifacts", config=config, stage=stage,
                   processes=processes or ProcessGroup(),
                   writer=writer or OutputWriter(root, Redactor.from_env(config.secret_env)),
                   project_bin=project_bin)

    @property
    def log_path(self) -> Path:
        return self.reports / "logs" / f"{self.stage}.log"

    def project_tool(self, name: str) -> str:
        """Path of an executable inside the project environment."""
        if self.project_bin is None:
            raise RuntimeError(f"stage {self.stage} needs the project environment; none was made")
        return str(self.project_bin / name)

    def run_tool(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ToolRun:
        """Run one tool, appending its output to this stage's log; a non-zero exit is not raised."""
        if self.processes.cancelled.is_set():
            raise Cancelled(self.stage)
        full_env = tool_environment(os.environ, self.config.tool_env, self.run_id, self.stage, env)
        started = time.monotonic()
        limit = timeout if timeout is not None else float(self.config.tool_timeout)
        with self.writer.stream(self.log_path) as log:
            log.write(f"$ {' '.join(argv)}\n".encode())
            proc = subprocess.Popen(  # nosec B603 - argv list, no shell
                list(argv),
                cwd=cwd or self.workspace,
                env=full_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.processes.add(proc)
            try:
                raw, timed_out = _collect(proc, log, limit)
            finally:
                self.processes.discard(proc)
            ending = b"" if raw.endswith(b"\n") or not raw else b"\n"
            status = f"[exit {proc.returncode}{' timeout' if timed_out else ''}]\n"
            log.write(ending + status.encode())
        output = self.writer.redactor.text(raw.decode("utf-8", errors="replace"))
        if self.processes.cancelled.is_set():
            raise Cancelled(self.stage)
        return ToolRun(tuple(argv), proc.returncode, output, time.monotonic() - started, timed_out)


def _collect(proc: subprocess.Popen[bytes], log: RedactingStream,
             limit: float) -> tuple[bytes, bool]:
    """Copy the tool's output into the log as it comes; kill its group after `limit` seconds."""
    chunks: list[bytes] = []
    assert proc.stdout is not None  # nosec B101 - Popen was given stdout=PIPE

    def pump() -> None:
        stdout = proc.stdout
        assert stdout is not None  # nosec B101
        try:
            for chunk in iter(lambda: os.read(stdout.fileno(), 65536), b""):
                chunks.append(chunk)
                log.write(chunk)
        except (OSError, ValueError):  # the pipe closed under us after a timeout: output ends here
            return

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
    reader.join(timeout=10)  # a grandchild holding the pipe open must not hang the stage
    proc.stdout.close()
    return b"".join(chunks), timed_out
