"""What a person sees: a live view on a terminal, plain timestamped lines otherwise, then a summary.

Summary lines follow pre-commit: `tests ........................ PASSED  3.2s`, the reason under a
stage that did not pass, where the reports are, and one overall line.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from finsig_runner.engine.outcome import RunOutcome
from finsig_runner.core.events import rfc3339, utc_now
from finsig_runner.core.model import RunStatus, StageResult, Status
from finsig_runner.engine.plan import Plan

WIDTH = 30
STYLES = {
    Status.PASSED: "green",
    Status.CACHED: "green",
    Status.FAILED: "red",
    Status.ERROR: "bold red",
    Status.SKIPPED: "yellow",
    Status.ABORTED: "magenta",
}


def summary_line(name: str, status: str, duration: float) -> str:
    dots = "." * max(3, WIDTH - len(name) - 2)
    return f"{name} {dots} {status:<8}{duration:5.1f}s"


def summary(outcome: RunOutcome) -> list[str]:
    lines = []
    for name, result in outcome.results.items():
        lines.append(summary_line(name, result.status.value, result.duration))
        if result.reason and result.status is not Status.PASSED:
            lines.append(f"    {result.reason}")
    ws = outcome.workspace
    lines.append(f"stage results: {ws / 'reports' / 'stages'}/<stage>.json")
    lines.append(f"tool logs:     {ws / 'reports' / 'logs'}/<stage>.log")
    lines.append(f"reports:       {ws / 'reports'}")
    lines.append(f"artifacts:     {ws / 'artifacts'}")
    lines.append(f"event log:     {outcome.event_log} (chain {outcome.chain_hash[:16]}...)")
    if outcome.previous is not None:
        lines.append(f"previous run:  {outcome.previous}")
    verdict = outcome.status.value
    if outcome.status is RunStatus.PARTIAL:
        verdict = (f"PARTIAL (stages here: {outcome.stages_status.value}; a partial run gives no "
                   "verdict)")
    lines.append(
        f"run {outcome.run_id}: {verdict} in {outcome.duration:.1f}s (exit {outcome.exit_code})"
    )
    return lines


class PlainOutput:
    """Timestamped lines, one per event: fit for CI logs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def _say(self, text: str) -> None:
        with self._lock:
            print(f"{rfc3339(utc_now())} {text}", file=self.stream, flush=True)

    def run_started(self, run_id: str, plan: Plan) -> None:
        extra = f", prerequisites from {plan.from_dir}" if plan.from_dir else ""
        self._say(f"run {run_id}: {', '.join(plan.stages) or 'no stages'}{extra}")

    def stage_started(self, name: str) -> None:
        self._say(f"{name}: started")

    def stage_finished(self, result: StageResult) -> None:
        reason = f" - {result.reason}" if result.reason else ""
        self._say(f"{result.stage}: {result.status.value} {result.duration:.1f}s{reason}")

    def note(self, text: str) -> None:
        self._say(text)

    def close(self) -> None:
        pass

    def run_finished(self, outcome: RunOutcome) -> None:
        with self._lock:
            for line in summary(outcome):
                print(line, file=self.stream)
            self.stream.flush()


class LiveOutput:
    """A rich live view on a terminal: one line per stage with its state and elapsed time."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._lock = threading.Lock()
        self._stages: list[str] = []
        self._started: dict[str, float] = {}
        self._done: dict[str, StageResult] = {}
        self._live: Live | None = None
        self._note = ""

    def _render(self) -> Table:
        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        with self._lock:
            for name in self._stages:
                if name in self._done:
                    result = self._done[name]
                    state = Text(result.status.value, style=STYLES.get(result.status, ""))
                    elapsed = result.duration
                elif name in self._started:
                    state, elapsed = Text("running", style="cyan"), now - self._started[name]
                else:
                    state, elapsed = Text("waiting", style="dim"), 0.0
                table.add_row(name, state, f"{elapsed:6.1f}s")
            if self._note:
                table.add_row(Text(self._note, style="dim"), "", "")
        return table

    def run_started(self, run_id: str, plan: Plan) -> None:
        self._stages = list(plan.stages)
        self.console.print(f"run {run_id}")
        self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4,
                          transient=True)
        self._live.start()

    def stage_started(self, name: str) -> None:
        with self._lock:
            self._started[name] = time.monotonic()

    def stage_finished(self, result: StageResult) -> None:
        with self._lock:
            self._done[result.stage] = result

    def note(self, text: str) -> None:
        with self._lock:
            self._note = text

    def close(self) -> None:
        """Stop the live view (also when the run ended by an exception)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def run_finished(self, outcome: RunOutcome) -> None:
        self.close()
        for line in summary(outcome):
            self.console.print(Text(line), soft_wrap=True)


def make_output(stream: TextIO | None = None) -> PlainOutput | LiveOutput:
    stream = stream or sys.stdout
    if stream.isatty():
        return LiveOutput(Console(file=stream))
    return PlainOutput(stream)
