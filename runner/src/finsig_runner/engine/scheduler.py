"""Deciding and scheduling: which stage runs when, in parallel up to `jobs`, and what it came to.

Rules (DESIGN section 3): a stage whose prerequisite FAILED, hit an ERROR or was ABORTED is
ABORTED; one whose prerequisite was SKIPPED is SKIPPED; `always` stages run regardless. A stage
that raises is ERROR with the exception as its reason; the run itself never crashes on a stage.
The project environment is made once, on the first demand, in a worker of its own; stages that
need it wait without holding a worker.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from finsig_runner.core.context import Cancelled, StageContext
from finsig_runner.core.errors import ProjectEnvError
from finsig_runner.core.events import utc_now
from finsig_runner.core.model import Stage, StageResult, Status
from finsig_runner.engine.inputs import inputs_key
from finsig_runner.engine.plan import Plan
from finsig_runner.engine.recorder import Recorder

PROJECT_ENV_STEP = "project-env"
PrepareEnv = Callable[[StageContext], Path]
State = tuple[Status, str]


def decide(prerequisites: Mapping[str, State]) -> State | None:
    """ABORTED/SKIPPED from the prerequisites' statuses, or None when the stage may run."""
    for name, (status, reason) in prerequisites.items():
        if status in (Status.FAILED, Status.ERROR):
            return Status.ABORTED, f"prerequisite {name} {status.value}"
        if status is Status.ABORTED:  # say why, down the chain: the cause is what a reader needs
            return Status.ABORTED, f"prerequisite {name} ABORTED: {reason}"
    for name, (status, reason) in prerequisites.items():
        if status is Status.SKIPPED:
            suffix = f": {reason}" if reason else ""
            return Status.SKIPPED, f"prerequisite {name} SKIPPED{suffix}"
    return None


def not_run(name: str, status: Status, reason: str, started: datetime | None = None
            ) -> StageResult:
    return StageResult(stage=name, status=status, reason=reason, started=started or utc_now(),
                       ended=utc_now())


def write_traceback(ctx: StageContext, exc: BaseException) -> None:
    ctx.writer.append(ctx.log_path, "[runner] the stage raised:\n"
                      + "".join(traceback.format_exception(exc)))


@dataclass
class Runtime:
    """What the scheduler shares with the run: the recorder, the interrupt flag, contexts."""

    recorder: Recorder
    context: Callable[[str], StageContext]
    interrupted: threading.Event
    signal_name: Callable[[], str]
    prepare_env: PrepareEnv | None
    cleanup: Callable[[str, datetime, frozenset[str]], None]  # what a finished stage left


class ProjectEnv:
    """The project-environment step, made once on first demand (other stages run meanwhile)."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._lock = threading.Lock()
        self.done = False
        self._bin: Path | None = None
        self._error = ""

    def make(self) -> None:
        with self._lock:
            if not self.done:
                self._make()
                self.done = True

    def get(self) -> Path:
        self.make()
        if self._bin is None:
            raise ProjectEnvError(f"project environment: {self._error}")
        return self._bin

    def _make(self) -> None:
        rt = self._rt
        ctx = rt.context(PROJECT_ENV_STEP)
        rt.recorder.log.append("project_env", phase="start")
        rt.recorder.observer.note(f"{PROJECT_ENV_STEP}: started")
        started = utc_now()
        try:
            if rt.prepare_env is None:
                raise ProjectEnvError("no project-environment step was given to the engine")
            self._bin = rt.prepare_env(ctx)
        except Cancelled:
            self._error = "interrupted"
        except Exception as exc:  # any failure: the stages that need it become ERROR, not a crash
            self._error = str(exc) or type(exc).__name__
            write_traceback(ctx, exc)
        status = (Status.PASSED if self._bin else Status.ERROR).value
        duration = (utc_now() - started).total_seconds()
        rt.recorder.log.append("project_env", phase="end", status=status, reason=self._error,
                               bin=str(self._bin or ""), duration=round(duration, 3))
        reason = f" - {self._error}" if self._error else ""
        rt.recorder.observer.note(f"{PROJECT_ENV_STEP}: {status} {duration:.1f}s{reason}")


def execute(stage: Stage, runtime: Runtime, env: ProjectEnv) -> StageResult:
    """In a worker thread: run one stage, turning anything it raises into ERROR."""
    ctx = runtime.context(stage.name)
    env_error = ""
    if stage.uses_project_env:
        try:
            ctx = replace(ctx, project_bin=env.get())
        except ProjectEnvError as exc:
            env_error = str(exc)
    started = utc_now()
    runtime.recorder.log.append("stage_start", stage=stage.name,
                                inputs_sha256=inputs_key(stage, ctx))
    runtime.recorder.observer.stage_started(stage.name)
    if runtime.interrupted.is_set():
        return not_run(stage.name, Status.ABORTED, "interrupted", started)
    if env_error:
        return not_run(stage.name, Status.ERROR, env_error, started)
    try:
        result = stage.run(ctx)
    except Cancelled:
        return not_run(stage.name, Status.ABORTED,
                       f"interrupted ({runtime.signal_name() or 'cancelled'})", started)
    except Exception as exc:
        write_traceback(ctx, exc)
        return not_run(stage.name, Status.ERROR, f"stage raised {type(exc).__name__}: {exc}",
                       started)
    if not isinstance(result, StageResult) or not isinstance(result.status, Status):
        reason = f"stage returned {type(result).__name__}, not a StageResult"
        return not_run(stage.name, Status.ERROR, reason, started)
    return replace(result, stage=stage.name, started=result.started or started,
                   ended=result.ended or utc_now())


class Scheduler:
    """Runs a plan's stages in dependency order, at most `jobs` at a time."""

    def __init__(self, registry: Mapping[str, Stage], plan: Plan, jobs: int, runtime: Runtime,
                 imported: Mapping[str, State]) -> None:
        self.registry, self.plan, self.jobs, self.rt = registry, plan, jobs, runtime
        self.imported = imported
        self.results: dict[str, StageResult] = {}
        self.pending = list(plan.stages)
        self.running: dict[Future[StageResult], str] = {}
        self.env = ProjectEnv(runtime)
        self.env_future: Future[None] | None = None
        self.cancelled = False

    def state(self, name: str) -> State | None:
        if name in self.results:
            return self.results[name].status, self.results[name].reason
        return self.imported.get(name)

    def env_busy(self) -> bool:
        return self.env_future is not None and not self.env_future.done()

    def run(self, on_interrupt: Callable[[], None]) -> dict[str, StageResult]:
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="stage") as pool:
            while self.pending or self.running or self.env_busy():
                if self.rt.interrupted.is_set() and not self.cancelled:
                    self._cancel(on_interrupt)
                while not self.cancelled and self._dispatch(pool):
                    pass
                if not self.running and not self.env_busy():
                    self._unresolvable()
                    continue
                self._collect()
        return {name: self.results[name] for name in self.plan.stages if name in self.results}

    def _finish(self, result: StageResult) -> None:
        self.results[result.stage] = self.rt.recorder.finished(result)

    def _cancel(self, on_interrupt: Callable[[], None]) -> None:
        self.cancelled = True
        on_interrupt()
        for name in self.pending:
            reason = f"not started: run interrupted ({self.rt.signal_name() or 'signal'})"
            self._finish(not_run(name, Status.ABORTED, reason))
        self.pending.clear()

    def _dispatch(self, pool: ThreadPoolExecutor) -> bool:
        """Start or settle every stage that can be now; True when anything changed."""
        progressed = False
        for name in list(self.pending):
            stage = self.registry[name]
            states = {r: self.state(r) for r in self.plan.waits_for(stage)}
            if any(s is None for s in states.values()):
                continue
            verdict = None if stage.always else decide(
                {r: s for r, s in states.items() if s is not None})
            busy = len(self.running) + self.env_busy()
            if verdict is None and stage.uses_project_env and not self.env.done:
                if self.env_future is None and busy < self.jobs:
                    self.env_future = pool.submit(self.env.make)
                    progressed = True
                continue
            if verdict is None and busy >= self.jobs:
                continue
            self.pending.remove(name)
            progressed = True
            if verdict is not None:
                self._finish(not_run(name, *verdict))
            else:
                self.running[pool.submit(execute, stage, self.rt, self.env)] = name
        return progressed

    def _unresolvable(self) -> None:
        if self.pending and not self.cancelled:  # unreachable with a checked registry
            for name in self.pending:
                self._finish(not_run(name, Status.ERROR, "prerequisites never resolved"))
            self.pending.clear()

    def _collect(self) -> None:
        waiting: set[Future[Any]] = set(self.running)
        if self.env_future is not None and self.env_busy():
            waiting.add(self.env_future)
        done, _ = wait(waiting, timeout=0.1, return_when=FIRST_COMPLETED)
        for future in done:
            if future is self.env_future:
                future.result()  # ProjectEnv._make never raises; surface a bug if it did
                continue
            name = self.running.pop(future)
            result = future.result()
            self.rt.cleanup(name, result.started or utc_now(), frozenset(self.running.values()))
            self._finish(result)
