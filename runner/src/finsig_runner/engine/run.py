"""A run from start to end: outputs set aside, the log opened, prerequisites imported, stages
scheduled and recorded, the run's end written, the stages' seals made.

The engine knows no stage: the command line hands it the registry, the project-environment step
and, for `--only … --from DIR`, the earlier run (anything that satisfies EarlierRun).
SIGINT/SIGTERM cancel every child process; stages not yet started are not started; the run is
recorded as INTERRUPTED and exits 130. Everything is recorded in artifacts/ci_cd_events.log.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Protocol

from finsig_runner import __version__
from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.config_loader import to_json as config_json
from finsig_runner.core.context import ProcessGroup, StageContext
from finsig_runner.core import processes
from finsig_runner.core.errors import ExitCode, UsageError
from finsig_runner.core.events import LOG_NAME, EventLog, utc_now
from finsig_runner.core.model import Origin, RunStatus, Stage, StageResult, Status
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.core.redaction import Redactor
from finsig_runner.core.workspace import fix_ownership, set_aside
from finsig_runner.engine.observer import NoObserver, Observer
from finsig_runner.engine.outcome import RunOutcome, found
from finsig_runner.engine.plan import Plan
from finsig_runner.engine.recorder import Recorder
from finsig_runner.engine.scheduler import PrepareEnv, Runtime, Scheduler, State, not_run


# A hook for what a finished stage left in Docker: (stage, its start, stages still running) ->
# the containers it removed.
AfterStage = Callable[[str, datetime, frozenset[str]], list[str]]


class EarlierRun(Protocol):
    """An earlier run's verified evidence, for the prerequisites `--only` does not run."""

    @property
    def root(self) -> Path: ...

    @property
    def run_id(self) -> str: ...

    @property
    def chain_hash(self) -> str: ...

    @property
    def signed_by(self) -> str | None:
        """The trusted key that sealed it; None when taken unsigned (--allow-unsigned)."""

    def result(self, stage: str) -> StageResult | None: ...

    def missing_output(self, stage: str) -> str | None: ...

    def copy_outputs(self, stage: str, workspace: Path) -> None: ...


class Engine:
    def __init__(self, registry: Mapping[str, Stage], workspace: Path, config: RunnerConfig, *,
                 jobs: int = 1, observer: Observer | None = None,
                 prepare_env: PrepareEnv | None = None, earlier: EarlierRun | None = None,
                 run_id: str | None = None, handle_signals: bool = True,
                 redactor: Redactor | None = None, after_stage: AfterStage | None = None) -> None:
        if jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {jobs}")
        self.registry = registry
        self.workspace = workspace.resolve()
        self.config = config
        self.jobs = jobs
        self.observer: Observer = observer or NoObserver()
        self.prepare_env = prepare_env
        self.earlier = earlier
        self.run_id = run_id or f"{utc_now():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self.handle_signals = handle_signals
        self.processes = ProcessGroup()
        self.writer = OutputWriter(self.workspace,
                                   redactor or Redactor.from_env(config.secret_env))
        self.after_stage = after_stage
        self._interrupt = threading.Event()
        self._signal_name = ""
        self._recorder: Recorder | None = None

    def context(self, stage: str) -> StageContext:
        return StageContext.create(self.workspace, self.config, stage, self.run_id,
                                   processes=self.processes, writer=self.writer)

    def interrupt(self, signum: int = signal.SIGINT) -> None:
        """Ask the run to stop (what the SIGINT/SIGTERM handler calls)."""
        if self._interrupt.is_set():  # a second signal: no more grace
            self.processes.cancelled.set()
            threading.Thread(target=self.processes.cancel, args=(0.0,), daemon=True).start()
            return
        self._signal_name = signal.Signals(signum).name
        self._interrupt.set()

    def run(self, plan: Plan) -> RunOutcome:
        if self.earlier is not None and self.earlier.root.resolve() == self.workspace:
            raise UsageError(
                "--from must name another directory than the workspace (its outputs are set "
                "aside when a run starts; use .finsig-runner/previous/<run> instead)")
        restore = self._install_signals()  # first: a signal during set-aside is an interrupt too
        try:
            return self._run(plan)
        finally:
            restore()
            fix_ownership(self.workspace)  # also after a bug mid-run: never leave root's files

    def _run(self, plan: Plan) -> RunOutcome:
        started = utc_now()
        previous = set_aside(self.workspace, f"{started:%Y%m%dT%H%M%S%fZ}",
                             max(0, self.config.keep_previous))
        (self.workspace / "reports").mkdir(parents=True)
        (self.workspace / "artifacts").mkdir(parents=True)
        log = EventLog(self.workspace / "artifacts" / LOG_NAME, self.writer.redactor)
        log.append("run_start", run_id=self.run_id, runner_version=__version__,
                   workspace=str(self.workspace), mode=plan.mode.value,
                   stages=list(plan.stages), external=list(plan.external), partial=plan.partial,
                   from_dir=str(plan.from_dir) if plan.from_dir else None,
                   from_chain_hash=self.earlier.chain_hash if self.earlier else None,
                   from_signed_by=self.earlier.signed_by if self.earlier else None,
                   jobs=self.jobs, config=config_json(self.config),
                   previous=str(previous) if previous else None)
        self.observer.run_started(self.run_id, plan)
        recorder = Recorder(self.run_id, self.writer, log, self.registry, plan, self.observer)
        self._recorder = recorder
        imported = self._import(plan, recorder)
        runtime = Runtime(recorder, self.context, self._interrupt, lambda: self._signal_name,
                          self.prepare_env, self.cleanup)
        results = Scheduler(self.registry, plan, self.jobs, runtime, imported).run(
            self.processes.cancel)
        return self._end(plan, recorder, results, started, previous)

    def _end(self, plan: Plan, recorder: Recorder, results: dict[str, StageResult],
             started: datetime, previous: Path | None) -> RunOutcome:
        interrupted = self._interrupt.is_set()
        stages_status, code = found(results, interrupted)
        changed = recorder.changed()
        if changed and code in (ExitCode.OK, ExitCode.FINDINGS):
            stages_status, code = RunStatus.FAILED, ExitCode.FINDINGS
            self.observer.note(f"integrity: {', '.join(changed)} differ(s) from what the run "
                               "recorded: the run FAILED")
        status = RunStatus.PARTIAL if plan.partial and not interrupted and not changed \
            else stages_status
        ended = utc_now()
        counts: dict[str, int] = {}
        for res in results.values():
            counts[res.status.value] = counts.get(res.status.value, 0) + 1
        recorder.log.append("run_end", run_id=self.run_id, status=status.value,
                            outcome=stages_status.value, partial=plan.partial,
                            interrupted=interrupted, signal=self._signal_name or None,
                            exit_code=int(code), counts=counts, integrity=changed or None,
                            duration=round((ended - started).total_seconds(), 3))
        self._seal(plan, results)
        done = RunOutcome(run_id=self.run_id, status=status, exit_code=int(code),
                          partial=plan.partial, interrupted=interrupted, results=results,
                          workspace=self.workspace, event_log=recorder.log.path,
                          chain_hash=recorder.log.chain_hash, started=started, ended=ended,
                          previous=previous)
        self.observer.run_finished(done)
        return done

    def cleanup(self, stage: str, started: datetime, running: frozenset[str]) -> None:
        """A stage ended: kill the processes it left, remove the containers it left."""
        left = processes.leftovers(self.run_id, stage, self.processes.pids(), running)
        killed = processes.kill(left)
        removed = self.after_stage(stage, started, running) if self.after_stage else []
        if (killed or removed) and self._recorder is not None:
            self._recorder.log.append("stage_cleanup", stage=stage, killed=killed,
                                      containers=removed)

    def _seal(self, plan: Plan, results: Mapping[str, StageResult]) -> None:
        """After run_end: each stage that ran adds what it must add after the run (its seal)."""
        for name in plan.stages:
            if name in results and results[name].status is not Status.ABORTED:
                ctx = self.context(name)
                try:
                    self.registry[name].seal(ctx)
                except Exception as exc:  # the run is over: record it, verify will refuse
                    ctx.writer.append(ctx.reports / "logs" / "seal.log",
                                      f"[runner] {name}.seal raised {type(exc).__name__}: {exc}\n")

    def _install_signals(self) -> Callable[[], None]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, _frame: FrameType | None) -> None:
            self.interrupt(signum)

        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, previous in old.items():
                signal.signal(sig, previous)

        return restore

    def _import(self, plan: Plan, recorder: Recorder) -> dict[str, State]:
        """Status of each prerequisite taken from the earlier run, its outputs copied in."""
        states: dict[str, State] = {}
        for name in plan.external:
            result = self._import_one(name)
            origin = Origin(result.origin.run_id if result.origin else self.run_id, imported=True)
            written = recorder.persist(result, origin)
            states[name] = (written.status, written.reason)
            earlier = self.earlier
            recorder.log.append(
                "import", stage=name, status=written.status.value, reason=written.reason,
                from_dir=str(earlier.root) if earlier else None,
                from_run_id=earlier.run_id if earlier else None,
                from_chain_hash=earlier.chain_hash if earlier else None)
        return states

    def _import_one(self, name: str) -> StageResult:
        earlier = self.earlier
        if earlier is None:
            return not_run(name, Status.ABORTED, "not in this run and no --from DIR given")
        result = earlier.result(name)
        if result is None:
            return not_run(name, Status.ABORTED, f"no result in --from {earlier.root}")
        missing = earlier.missing_output(name)
        if missing:
            return not_run(name, Status.ABORTED, f"output {missing} in --from {earlier.root}")
        earlier.copy_outputs(name, self.workspace)
        return result
