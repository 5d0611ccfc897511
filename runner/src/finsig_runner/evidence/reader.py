"""What a run did, read back from its evidence: the verified event log is the record, and each
stage's result file (reports/stages/<stage>.json) is trusted only when its sha256 is the one the
log holds. The result comes back as the one StageResult, with its Origin.

The validate stage reads its own run this way (while the run is still open), `validate --merge`
reads each job's finished run, and `run --only … --from DIR` reads the earlier run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.events import LogVerification, iter_records, verify_chain
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import FileDigest, Origin, StageResult
from finsig_runner.core.outputs import contained
from finsig_runner.evidence.files import LOG, RESULTS


@dataclass(frozen=True)
class RunRecord:
    root: Path
    run_id: str
    started: str
    partial: bool
    mode: str
    finished: bool  # the log has its run_end line
    log: LogVerification
    stages: dict[str, StageResult]  # in the order their results were recorded
    outputs: tuple[FileDigest, ...]  # every artifact event of the log (outputs, results, …)

    @property
    def log_path(self) -> Path:
        return self.root / LOG

    def outputs_of(self, stage: str) -> tuple[FileDigest, ...]:
        result = self.stages.get(stage)
        return result.outputs if result else ()


@dataclass
class _Scan:
    run_id: str = ""
    started: str = ""
    partial: bool = False
    mode: str = "full"
    finished: bool = False


def read_run(root: Path) -> RunRecord:
    """Raises EvidenceError (ChainBrokenError) when the log or a result file does not verify."""
    log_path = root / LOG
    if not log_path.is_file():
        raise EvidenceError(f"{root}: no event log at {LOG}")
    checked = verify_chain(log_path)
    scan = _Scan()
    results: dict[str, str] = {}  # stage -> sha256 of its result file, as the log holds it
    outputs: list[FileDigest] = []
    for record in iter_records(log_path):
        event = record.get("event")
        if event == "run_start":
            scan.run_id, scan.started = str(record.get("run_id", "")), str(record.get("ts", ""))
            scan.partial, scan.mode = bool(record.get("partial")), str(record.get("mode", "full"))
        elif event == "run_end":
            scan.finished = True
        elif event == "artifact":
            digest = FileDigest.from_json(record)
            contained(root, Path(digest.path))  # a path leading out is refused, never followed
            outputs.append(digest)
            if record.get("kind") == "result":
                results[str(record["stage"])] = str(record["sha256"])
    if not scan.run_id:
        raise EvidenceError(f"{log_path}: no run_start line")
    stages = {name: _result(root, name, digest, scan.run_id) for name, digest in results.items()}
    return RunRecord(root, scan.run_id, scan.started, scan.partial, scan.mode, scan.finished,
                     checked, stages, tuple(outputs))


def _result(root: Path, stage: str, expected: str, run_id: str) -> StageResult:
    path = root / RESULTS / f"{stage}.json"
    if not path.is_file():
        raise EvidenceError(f"{path}: missing (the event log records it)")
    if sha256_file(path) != expected:
        raise EvidenceError(f"{path}: sha256 differs from the event log")
    try:
        data: Any = json.loads(path.read_bytes())
        result = StageResult.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"{path}: not a stage result ({exc})") from exc
    if result.stage != stage:
        raise EvidenceError(f"{path}: holds the result of {result.stage!r}, not {stage!r}")
    for out in result.outputs:
        contained(root, Path(out.path))
    return result if result.origin else replace(result, origin=Origin(run_id))
