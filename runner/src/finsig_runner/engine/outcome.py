"""How a run ended: one RunStatus, the exit code, and every stage's result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from finsig_runner.core.errors import ExitCode
from finsig_runner.core.model import RunStatus, StageResult, Status


def found(results: Mapping[str, StageResult], interrupted: bool) -> tuple[RunStatus, ExitCode]:
    """What the stages of a run came to (never PARTIAL), and the exit code that says it."""
    statuses = {r.status for r in results.values()}
    if interrupted:
        return RunStatus.INTERRUPTED, ExitCode.INTERRUPTED
    if Status.ERROR in statuses:
        return RunStatus.ERROR, ExitCode.TOOL_ERROR
    if Status.FAILED in statuses:
        return RunStatus.FAILED, ExitCode.FINDINGS
    if Status.ABORTED in statuses:  # aborted without a failed stage here: a missing input
        return RunStatus.ERROR, ExitCode.TOOL_ERROR
    return RunStatus.PASSED, ExitCode.OK


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: RunStatus  # PARTIAL when not every stage ran here (and the run was not interrupted)
    exit_code: int  # what the stages here found, also for a PARTIAL run
    partial: bool
    interrupted: bool
    results: dict[str, StageResult]  # stages of this run, in plan order
    workspace: Path
    event_log: Path
    chain_hash: str
    started: datetime
    ended: datetime
    previous: Path | None  # where the previous run's outputs were set aside

    @property
    def duration(self) -> float:
        return (self.ended - self.started).total_seconds()

    @property
    def stages_status(self) -> RunStatus:
        """What the stages here came to; for a PARTIAL run, what it found without a verdict."""
        return found(self.results, self.interrupted)[0]
