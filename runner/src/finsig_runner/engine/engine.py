"""The stage engine: runs a Plan's stages in dependency order, in parallel up to `jobs`.

Rules (DESIGN section 3): a stage whose prerequisite FAILED, hit an ERROR or was ABORTED is
ABORTED; one whose prerequisite was SKIPPED is SKIPPED; `always` stages run regardless. A stage
that raises is ERROR with the exception as its reason; the run itself never crashes on a stage.
SIGINT/SIGTERM cancel every child process; stages not yet started are not started; the run is
recorded as INTERRUPTED and exits 130.

Everything is recorded in artifacts/ci_cd_events.log (see events.py) and each stage's result in
reports/stages/<stage>.json.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import signal
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from finsig_runner import __version__
from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.config_loader import to_json as config_json
from finsig_runner.core.context import Cancelled, ProcessGroup, StageContext
from finsig_runner.core.errors import ExitCode, ProjectEnvError, UsageError
from finsig_runner.core.events import LOG_NAME, EventLog, rfc3339, utc_now
from finsig_runner.core.redaction import redact, redact_json
from finsig_runner.evidence.earlier_run import EarlierRun
from finsig_runner.core.model import FileDigest, Stage, StageInputs, StageResult, Status
from finsig_runner.engine.plan import Plan
from finsig_runner.core.workspace import fix_ownership, set_aside

PROJECT_ENV_STEP = "project-env"
PrepareEnv = Callable[[StageContext], Path]


class Observer(Protocol):
    """Progress callbacks (output.py). Called from worker threads: implementations lock."""

    def run_started(self, run_id: str, plan: Plan) -> None: ...

    def stage_started(self, name: str) -> None: ...

    def stage_finished(self, result: StageResult) -> None: ...

    def note(self, text: str) -> None:
        """A step that is not a stage (the project environment)."""

    def run_finished(self, outcome: RunOutcome) -> None: ...


class _NoObserver:
    def run_started(self, run_id: str, plan: Plan) -> None:
        pass

    def stage_started(self, name: str) -> None:
        pass

    def stage_finished(self, result: StageResult) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def run_finished(self, outcome: RunOutcome) -> None:
        pass


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: str  # PASSED | FAILED | ERROR | INTERRUPTED | PARTIAL
    outcome: str  # PASSED | FAILED | ERROR | INTERRUPTED (what a PARTIAL run found)
    exit_code: int
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


def default_prepare_env(ctx: StageContext) -> Path:
    """finsig_runner.stages.project_env.prepare(ctx), or ProjectEnvError when it is missing."""
    try:
        module = importlib.import_module("finsig_runner.stages.project_env")
    except ImportError as exc:
        raise ProjectEnvError(
            "the project-environment step is not available in this version "
            f"(finsig_runner.stages.project_env: {exc})"
        ) from exc
    prepare: PrepareEnv = getattr(module, "prepare")
    return prepare(ctx)


def inputs_key(inputs: StageInputs, workspace: Path) -> str:
    """sha256 over a stage's declared inputs (files by content), for the future stage cache."""
    digest = hashlib.sha256()
    for path in sorted(inputs.files):
        full = path if path.is_absolute() else workspace / path
        digest.update(str(path).encode() + b"\0")
        if full.is_file():
            digest.update(FileDigest.of(full, full.parent).sha256.encode())
        else:
            digest.update(b"<absent>")
        digest.update(b"\n")
    for pairs in (inputs.config, inputs.tools):
        digest.update(json.dumps(sorted(pairs)).encode() + b"\n")
    return digest.hexdigest()


def decide(status_of_prereqs: Mapping[str, tuple[Status, str]]) -> tuple[Status, str] | None:
    """ABORTED/SKIPPED from the prerequisites' statuses, or None when the stage may run."""
    for name, (status, reason) in status_of_prereqs.items():
        if status in (Status.FAILED, Status.ERROR):
            return Status.ABORTED, f"prerequisite {name} {status.value}"
        if status is Status.ABORTED:  # say why, down the chain: the cause is what a reader needs
            return Status.ABORTED, f"prerequisite {name} ABORTED: {reason}"
    for name, (status, reason) in status_of_prereqs.items():
        if status is Status.SKIPPED:
            suffix = f": {reason}" if reason else ""
            return Status.SKIPPED, f"prerequisite {name} SKIPPED{suffix}"
    return None


def outcome_of(results: Mapping[str, StageResult], interrupted: bool) -> tuple[str, int]:
    statuses = {r.status for r in results.values()}
    if interrupted:
        return "INTERRUPTED", ExitCode.INTERRUPTED
    if Status.ERROR in statuses:
        return "ERROR", ExitCode.TOOL_ERROR
    if Status.FAILED in statuses:
        return "FAILED", ExitCode.FINDINGS
    if Status.ABORTED in statuses:  # aborted without a failed stage here: a missing input
        return "ERROR", ExitCode.TOOL_ERROR
    return "PASSED", ExitCode.OK


class _ProjectEnv:
    """The project-environment step, made once on first demand (other stages run meanwhile)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._done = False
        self._bin: Path | None = None
        self._error: str = ""

    @property
    def done(self) -> bool:
        return self._done

    def make(self) -> None:
        """Make the environment (once); the scheduler runs this in a worker of its own."""
        with self._lock:
            if not self._done:
                self._make()
                self._done = True

    def get(self) -> Path:
        self.make()
        if self._bin is None:
            raise ProjectEnvError(f"project environment: {self._error}")
        return self._bin

    def _make(self) -> None:
        eng = self._engine
        ctx = eng.context(PROJECT_ENV_STEP)
        eng.log.append("project_env", phase="start")
        eng.observer.note(f"{PROJECT_ENV_STEP}: started")
        started = utc_now()
        try:
            self._bin = eng.prepare_env(ctx)
        except Cancelled:
            self._error = "interrupted"
        except Exception as exc:  # any failure: the stages that need it become ERROR, not a crash
            self._error = str(exc) or type(exc).__name__
            eng.write_traceback(PROJECT_ENV_STEP, exc)
        status = (Status.PASSED if self._bin else Status.ERROR).value
        duration = (utc_now() - started).total_seconds()
        eng.log.append(
            "project_env",
            phase="end",
            status=status,
            reason=self._error,
            bin=str(self._bin or ""),
            duration=round(duration, 3),
        )
        reason = f" - {self._error}" if self._error else ""
        eng.observer.note(f"{PROJECT_ENV_STEP}: {status} {duration:.1f}s{reason}")


class Engine:
    log: EventLog  # made by run(), once the previous run's outputs are set aside

    def __init__(
        self,
        registry: Mapping[str, Stage],
        workspace: Path,
        config: RunnerConfig,
        *,
        jobs: int = 1,
        observer: Observer | None = None,
        prepare_env: PrepareEnv = default_prepare_env,
        run_id: str | None = None,
        handle_signals: bool = True,
    ) -> None:
        if jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {jobs}")
        self.registry = registry
        self.workspace = workspace.resolve()
        self.reports = self.workspace / "reports"
        self.artifacts = self.workspace / "artifacts"
        self.config = config
        self.jobs = jobs
        self.observer: Observer = observer or _NoObserver()
        self.prepare_env = prepare_env
        now = utc_now()
        self.run_id = run_id or f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self.handle_signals = handle_signals
        self.processes = ProcessGroup()
        self._interrupt = threading.Event()
        self._signal_name = ""
        self._from: EarlierRun | None = None

    # --- helpers used by the workers ------------------------------------------------------------

    def context(self, stage: str, plan: Plan | None = None) -> StageContext:
        return StageContext(
            run_id=self.run_id,
            workspace=self.workspace,
            reports=self.reports,
            artifacts=self.artifacts,
            config=self.config,
            stage=stage,
            processes=self.processes,
            from_dir=plan.from_dir if plan else None,
        )

    def write_traceback(self, stage: str, exc: BaseException) -> None:
        path = self.reports / "logs" / f"{stage}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write("[runner] the stage raised:\n")
            log.write("".join(traceback.format_exception(exc)))

    def interrupt(self, signum: int = signal.SIGINT) -> None:
        """Ask the run to stop (what the SIGINT/SIGTERM handler calls)."""
        if self._interrupt.is_set():  # a second signal: no more grace
            self.processes.cancelled.set()
            threading.Thread(target=self.processes.cancel, args=(0.0,), daemon=True).start()
            return
        self._signal_name = signal.Signals(signum).name
        self._interrupt.set()

    # --- the run --------------------------------------------------------------------------------

    def run(self, plan: Plan) -> RunOutcome:
        if plan.from_dir is not None:
            if plan.from_dir.resolve() == self.workspace:
                raise UsageError(
                    "--from must name another directory than the workspace (its outputs are set "
                    "aside when a run starts; use .finsig-runner/previous/<run> instead)"
                )
            self._from = EarlierRun.open(plan.from_dir.resolve())
        try:
            return self._run(plan)
        finally:
            fix_ownership(self.workspace)  # also after a bug mid-run: never leave root's files

    def _run(self, plan: Plan) -> RunOutcome:
        restore = self._install_signals()  # first: a signal during set-aside is an interrupt too
        try:
            return self._run_body(plan)
        finally:
            restore()

    def _run_body(self, plan: Plan) -> RunOutcome:
        started = utc_now()
        previous = set_aside(
            self.workspace, f"{started:%Y%m%dT%H%M%S%fZ}", max(0, self.config.keep_previous)
        )
        self.reports.mkdir(parents=True)
        self.artifacts.mkdir(parents=True)
        self.log = EventLog(self.artifacts / LOG_NAME, secret_env=self.config.secret_env)
        self.log.append(
            "run_start",
            run_id=self.run_id,
            runner_version=__version__,
            workspace=str(self.workspace),
            mode=plan.mode,
            stages=list(plan.stages),
            external=list(plan.external),
            partial=plan.partial,
            from_dir=str(plan.from_dir) if plan.from_dir else None,
            from_chain_hash=self._from.chain_hash if self._from else None,
            jobs=self.jobs,
            config=config_json(self.config),
            previous=str(previous) if previous else None,
        )
        self.observer.run_started(self.run_id, plan)
        external = self._import_external(plan)
        results = self._schedule(plan, external)
        self._assemble_lint_report()
        interrupted = self._interrupt.is_set()
        outcome, code = outcome_of(results, interrupted)
        status = "PARTIAL" if plan.partial and not interrupted else outcome
        ended = utc_now()
        counts: dict[str, int] = {}
        for res in results.values():
            counts[res.status.value] = counts.get(res.status.value, 0) + 1
        self.log.append(
            "run_end",
            run_id=self.run_id,
            status=status,
            outcome=outcome,
            partial=plan.partial,
            interrupted=interrupted,
            signal=self._signal_name or None,
            exit_code=int(code),
            counts=counts,
            duration=round((ended - started).total_seconds(), 3),
        )
        self._seal(plan, results)
        done = RunOutcome(
            run_id=self.run_id,
            status=status,
            outcome=outcome,
            exit_code=int(code),
            partial=plan.partial,
            interrupted=interrupted,
            results=results,
            workspace=self.workspace,
            event_log=self.log.path,
            chain_hash=self.log.chain_hash,
            started=started,
            ended=ended,
            previous=previous,
        )
        self.observer.run_finished(done)
        return done

    def _seal(self, plan: Plan, results: Mapping[str, StageResult]) -> None:
        """After run_end: a stage with seal_run (validate) seals the finished log."""
        for name in plan.stages:
            seal = getattr(self.registry[name], "seal_run", None)
            if callable(seal) and name in results and results[name].status is not Status.ABORTED:
                try:
                    seal(self.context(name, plan))
                except Exception as exc:  # the run is over: record it, verify will refuse
                    self.write_traceback("seal", exc)

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

    def _import_external(self, plan: Plan) -> dict[str, tuple[Status, str]]:
        """Status of each prerequisite taken from --from DIR, copying its outputs in."""
        states: dict[str, tuple[Status, str]] = {}
        for name in plan.external:
            if self._from is None:
                states[name] = (Status.ABORTED, "not in this run and no --from DIR given")
            elif name not in self._from.stages:
                states[name] = (Status.ABORTED, f"no result in --from {self._from.root}")
            else:
                earlier = self._from.stages[name]
                missing = self._from.missing_output(earlier)
                if missing:
                    states[name] = (Status.ABORTED, f"output {missing} in --from {self._from.root}")
                else:
                    self._from.copy_outputs(earlier, self.workspace)
                    for out in earlier.outputs:
                        self.log.append("artifact", stage=name, kind="output", imported=True,
                                        **out.to_json())
                    states[name] = (earlier.status, earlier.reason)
            status, reason = states[name]
            self.log.append(
                "import",
                stage=name,
                status=status.value,
                reason=reason,
                from_dir=str(self._from.root) if self._from else None,
                from_run_id=self._from.run_id if self._from else None,
                from_chain_hash=self._from.chain_hash if self._from else None,
            )
        return states

    def _schedule(
        self, plan: Plan, external: dict[str, tuple[Status, str]]
    ) -> dict[str, StageResult]:
        results: dict[str, StageResult] = {}
        pending = list(plan.stages)
        running: dict[Future[StageResult], str] = {}
        env = _ProjectEnv(self)
        cancelled = False

        def state(name: str) -> tuple[Status, str] | None:
            if name in results:
                return results[name].status, results[name].reason
            return external.get(name)

        env_future: Future[None] | None = None

        def env_busy() -> bool:
            return env_future is not None and not env_future.done()

        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="stage") as pool:
            while pending or running or env_busy():
                if self._interrupt.is_set() and not cancelled:
                    cancelled = True
                    self.processes.cancel()
                    for name in pending:
                        self._finish(results, self._not_run(
                            name, Status.ABORTED,
                            f"not started: run interrupted ({self._signal_name or 'signal'})"))
                    pending.clear()
                progressed = True
                while progressed and not cancelled:
                    progressed = False
                    for name in list(pending):
                        stage = self.registry[name]
                        states = {r: state(r) for r in stage.requires
                                  if not stage.always or r in plan.stages or r in external}
                        if any(s is None for s in states.values()):
                            continue
                        verdict = None if stage.always else decide(
                            {r: s for r, s in states.items() if s is not None})
                        busy = len(running) + env_busy()
                        if verdict is None and stage.uses_project_env and not env.done:
                            # the environment takes a worker of its own; stages that need it
                            # wait without holding one, so the others run meanwhile
                            if env_future is None and busy < self.jobs:
                                env_future = pool.submit(env.make)
                                progressed = True
                            continue
                        if verdict is None and busy >= self.jobs:
                            continue
                        pending.remove(name)
                        progressed = True
                        if verdict is not None:
                            self._finish(results, self._not_run(name, *verdict))
                        else:
                            running[pool.submit(self._execute, stage, plan, env)] = name
                if not running and not env_busy():
                    if pending and not cancelled:  # unreachable with a checked registry
                        for name in pending:
                            self._finish(results, self._not_run(
                                name, Status.ERROR, "prerequisites never resolved"))
                        pending.clear()
                    continue
                waiting: set[Future[Any]] = set(running)
                if env_future is not None and env_busy():
                    waiting.add(env_future)
                done, _ = wait(waiting, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    if future is env_future:
                        future.result()  # _make() never raises; surface a bug if it did
                        continue
                    name = running.pop(future)
                    self._finish(results, future.result())
        return {name: results[name] for name in plan.stages if name in results}

    def _not_run(self, name: str, status: Status, reason: str) -> StageResult:
        now = utc_now()
        return StageResult(stage=name, status=status, reason=reason, started=now, ended=now)

    def _execute(self, stage: Stage, plan: Plan, env: _ProjectEnv) -> StageResult:
        """In a worker thread: run one stage, turning anything it raises into ERROR."""
        ctx = self.context(stage.name, plan)
        env_error = ""
        if stage.uses_project_env:
            try:
                ctx = replace(ctx, project_bin=env.get())
            except ProjectEnvError as exc:
                env_error = str(exc)
        started = utc_now()
        key = ""
        try:
            key = inputs_key(stage.inputs(ctx), self.workspace)
        except Exception as exc:  # declared inputs unreadable: recorded, the stage still decides
            key = f"error: {type(exc).__name__}: {exc}"
        self.log.append("stage_start", stage=stage.name, inputs_sha256=key)
        self.observer.stage_started(stage.name)
        if self._interrupt.is_set():
            return self._timed(stage.name, Status.ABORTED, "interrupted", started)
        if env_error:
            return self._timed(stage.name, Status.ERROR, env_error, started)
        try:
            result = stage.run(ctx)
        except Cancelled:
            return self._timed(stage.name, Status.ABORTED,
                               f"interrupted ({self._signal_name or 'cancelled'})", started)
        except Exception as exc:
            self.write_traceback(stage.name, exc)
            return self._timed(stage.name, Status.ERROR,
                               f"stage raised {type(exc).__name__}: {exc}", started)
        if not isinstance(result, StageResult) or not isinstance(result.status, Status):
            reason = f"stage returned {type(result).__name__}, not a StageResult"
            return self._timed(stage.name, Status.ERROR, reason, started)
        if result.started is None:
            result.started = started
        if result.ended is None:
            result.ended = utc_now()
        result.stage = stage.name
        return result

    def _timed(self, name: str, status: Status, reason: str, started: datetime) -> StageResult:
        return StageResult(stage=name, status=status, reason=reason, started=started,
                           ended=utc_now())

    def _finish(self, results: dict[str, StageResult], result: StageResult) -> None:
        """In the scheduler thread: record the result, its outputs and its end."""
        secrets = self.config.secret_env  # also out of the console lines the observer prints
        result.reason = redact(result.reason, secrets)
        result.checks = [replace(c, detail=redact(c.detail, secrets)) for c in result.checks]
        results[result.stage] = result
        path = self.reports / "stages" / f"{result.stage}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = redact_json(result.to_json(), self.config.secret_env)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        for out in result.outputs:
            self.log.append("artifact", stage=result.stage, kind="output", **out.to_json())
        self.log.append("artifact", stage=result.stage, kind="result",
                        **FileDigest.of(path, self.workspace).to_json())
        self.log.append(
            "stage_end",
            stage=result.stage,
            status=result.status.value,
            reason=result.reason,
            duration=round(result.duration, 3),
            checks={c.id: c.status.value for c in result.checks},
        )
        self.observer.stage_finished(result)

    def _assemble_lint_report(self) -> None:
        """reports/lint-report.txt: the flake8 and mypy sections, from the stages' own files."""
        parts: list[str] = []
        for title, name in (("flake8", "flake8-report.txt"), ("mypy", "mypy-report.txt")):
            source = self.reports / name
            if source.is_file():
                text = source.read_text(encoding="utf-8", errors="replace")
                parts.append(f"===== {title} ({name}) =====\n{text}")
                if not text.endswith("\n"):
                    parts.append("\n")
        if not parts:
            return
        target = self.reports / "lint-report.txt"
        target.write_text("".join(parts), encoding="utf-8")
        self.log.append("artifact", stage="runner", kind="combined",
                        **FileDigest.of(target, self.workspace).to_json())


def summary_json(outcome: RunOutcome) -> dict[str, Any]:
    return {
        "run_id": outcome.run_id,
        "status": outcome.status,
        "outcome": outcome.outcome,
        "exit_code": outcome.exit_code,
        "started": rfc3339(outcome.started),
        "ended": rfc3339(outcome.ended),
        "chain_hash": outcome.chain_hash,
        "stages": {n: r.status.value for n, r in outcome.results.items()},
    }
