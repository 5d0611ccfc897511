"""Fake stages implementing finsig_runner.core.model.Stage, and helpers to run the engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.context import StageContext
from finsig_runner.core.model import (
    FileDigest,
    ReportFragment,
    Stage,
    StageInputs,
    StageResult,
    Status,
)
from finsig_runner.engine.outcome import RunOutcome
from finsig_runner.engine.run import Engine
from finsig_runner.evidence.earlier_run import EarlierRun
from finsig_runner.evidence.trust import Trust
from finsig_runner.engine.plan import build_plan
from finsig_runner.stages.registry import build_registry


class Recorder:
    """Ordered start/end marks from every fake stage (never wall-clock thresholds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.marks: list[str] = []

    def mark(self, text: str) -> None:
        with self._lock:
            self.marks.append(text)

    def index(self, text: str) -> int:
        return self.marks.index(text)


@dataclass
class FakeStage:
    name: str
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    always: bool = False
    uses_project_env: bool = False
    status: Status = Status.PASSED
    reason: str = ""
    outputs: dict[str, bytes] = field(default_factory=dict)  # path relative to workspace -> bytes
    action: Callable[[StageContext], None] | None = None
    recorder: Recorder | None = None
    seen: list[StageContext] = field(default_factory=list)
    fragments: tuple[ReportFragment, ...] = ()
    runs_project_code: bool = False
    sealed: list[str] = field(default_factory=list)

    def seal(self, ctx: StageContext) -> None:
        self.sealed.append(ctx.run_id)

    def inputs(self, ctx: StageContext) -> StageInputs:
        return StageInputs(config=(("coverage_min", str(ctx.config.coverage_min)),))

    def run(self, ctx: StageContext) -> StageResult:
        self.seen.append(ctx)
        if self.recorder:
            self.recorder.mark(f"start {self.name}")
        try:
            if self.action:
                self.action(ctx)
            digests = []
            for rel, content in self.outputs.items():
                path = ctx.workspace / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                digests.append(FileDigest.of(path, ctx.workspace))
            return StageResult(self.name, self.status, reason=self.reason, outputs=tuple(digests))
        finally:
            if self.recorder:
                self.recorder.mark(f"end {self.name}")


def registry(*stages: FakeStage) -> dict[str, Stage]:
    return build_registry(stages)


def fake_env(bin_dir: Path, calls: list[str] | None = None) -> Callable[[StageContext], Path]:
    def prepare(ctx: StageContext) -> Path:
        if calls is not None:
            calls.append(ctx.stage)
        time.sleep(0.01)
        return bin_dir

    return prepare


def run(
    workspace: Path,
    *stages: FakeStage,
    names: Sequence[str] = (),
    only: Sequence[str] = (),
    from_dir: Path | None = None,
    jobs: int = 1,
    config: RunnerConfig | None = None,
    prepare_env: Callable[[StageContext], Path] | None = None,
) -> RunOutcome:
    reg = registry(*stages)
    plan = build_plan(reg, names, only, from_dir)
    engine = Engine(
        reg,
        workspace,
        config or RunnerConfig(),
        jobs=jobs,
        prepare_env=prepare_env or fake_env(workspace / "venv" / "bin"),
        earlier=(EarlierRun.open(from_dir.resolve(), Trust(allow_unsigned=True))
                 if from_dir else None),
        handle_signals=False,
    )
    return engine.run(plan)


def events(workspace: Path) -> list[dict[str, object]]:
    import json

    log = workspace / "artifacts" / "ci_cd_events.log"
    return [json.loads(line) for line in log.read_text().splitlines()]
