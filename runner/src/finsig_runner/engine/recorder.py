"""Recording a run: each stage's result, its outputs and its end, in the event log and on disk.

The recorder is the one place a result is persisted: reports/stages/<stage>.json is the result's
to_json() as the run's writer wrote it (redacted there, once), and the result kept in memory is
exactly that. Combined reports declared by stages (ReportFragment) are written once every stage
that contributes to them has ended.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.events import EventLog, verify_chain
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import (
    Check,
    FileDigest,
    Origin,
    ReportFragment,
    Stage,
    StageResult,
    Status,
)
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.engine.observer import Observer
from finsig_runner.engine.plan import Plan

RESULTS_DIR = Path("reports") / "stages"


def _unchanged_since_written(result: StageResult, writer: OutputWriter) -> StageResult:
    """FAILED, naming the files, when an output the runner wrote changed before the stage ended
    (something else wrote it in between: docs/threat-model.md)."""
    changed = [o.path for o in result.outputs if writer.written(o.path) not in (None, o.sha256)]
    if not changed:
        return result
    reason = f"{', '.join(changed)} changed after the runner wrote it (before the stage ended)"
    check = Check(f"{result.stage}.integrity", Status.FAILED, reason)
    return replace(result, status=Status.FAILED, reason=reason, checks=(*result.checks, check))


class Recorder:
    def __init__(self, run_id: str, writer: OutputWriter, log: EventLog,
                 registry: Mapping[str, Stage], plan: Plan, observer: Observer) -> None:
        self.run_id = run_id
        self.writer = writer
        self.log = log
        self.observer = observer
        self.results: dict[str, StageResult] = {}
        self.hashes: dict[str, str] = {}  # every file recorded: path -> sha256, held in memory
        self._lock = threading.Lock()
        self._fragments: dict[str, list[tuple[str, ReportFragment]]] = {}
        for name in plan.stages:
            for fragment in registry[name].fragments:
                self._fragments.setdefault(fragment.target, []).append((name, fragment))
        self._composed: set[str] = set()

    @property
    def workspace(self) -> Path:
        return self.writer.workspace

    def result_path(self, stage: str) -> Path:
        return self.workspace / RESULTS_DIR / f"{stage}.json"

    def artifact(self, stage: str, kind: str, digest: FileDigest, **extra: object) -> None:
        with self._lock:
            self.hashes[digest.path] = digest.sha256
        self.log.append("artifact", stage=stage, kind=kind, **digest.to_json(), **extra)

    def persist(self, result: StageResult, origin: Origin) -> StageResult:
        """Write the result file (redacted by the writer) and log it; return what was written."""
        path = self.result_path(result.stage)
        written = StageResult.from_json(
            self.writer.json(path, replace(result, origin=origin).to_json()))
        extra = {"imported": True} if origin.imported else {}
        for out in written.outputs:
            self.artifact(written.stage, "output", out, **extra)
        self.artifact(written.stage, "result", FileDigest.of(path, self.workspace))
        with self._lock:
            self.results[written.stage] = written
        return written

    def finished(self, result: StageResult) -> StageResult:
        """A stage of this run ended: persist it, log its end, write complete combined reports."""
        written = self.persist(_unchanged_since_written(result, self.writer), Origin(self.run_id))
        self.log.append(
            "stage_end",
            stage=written.stage,
            status=written.status.value,
            reason=written.reason,
            duration=round(written.duration, 3),
            checks={c.id: c.status.value for c in written.checks},
        )
        self._compose_ready()
        self.observer.stage_finished(written)
        return written

    def changed(self) -> list[str]:
        """Recorded files whose bytes are no longer what was recorded (held in memory), and the
        event log when its chain no longer ends where this run left it."""
        with self._lock:
            recorded = dict(self.hashes)
        found = [path for path, digest in sorted(recorded.items())
                 if not (self.workspace / path).is_file()
                 or sha256_file(self.workspace / path) != digest]
        try:
            log_ok = verify_chain(self.log.path).chain_hash == self.log.chain_hash
        except EvidenceError:
            log_ok = False
        return found if log_ok else [*found, str(self.log.path.relative_to(self.workspace))]

    def _compose_ready(self) -> None:
        for target, parts in self._fragments.items():
            with self._lock:
                if target in self._composed or any(s not in self.results for s, _ in parts):
                    continue
                self._composed.add(target)
            self._compose(target, [fragment for _, fragment in parts])

    def _compose(self, target: str, parts: list[ReportFragment]) -> None:
        pieces: list[str] = []
        for part in parts:
            source = self.workspace / part.source
            if source.is_file():
                text = source.read_text(encoding="utf-8", errors="replace")
                name = Path(part.source).name
                pieces.append(f"===== {part.title} ({name}) =====\n{text}")
                if not text.endswith("\n"):
                    pieces.append("\n")
        if not pieces:
            return
        path = self.workspace / target
        self.writer.text(path, "".join(pieces))
        self.artifact("runner", "combined", FileDigest.of(path, self.workspace))
