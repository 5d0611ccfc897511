"""What a run did, read back from its evidence: the verified event log is the record, each stage's
result file (reports/stages/<stage>.json) is trusted only when its sha256 is the one the log holds.

The validate stage reads its own run this way (while the run is still open), and `validate --merge`
reads each job's finished run the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.events import LOG_NAME, LogVerification, iter_records, verify
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import Status

DOCUMENT = "artifacts/artifact-validation.json"
SEAL = "artifacts/event-log-seal.json"
LOG = f"artifacts/{LOG_NAME}"
# Written after the document (or being written): covered by the seal and the log's tail instead.
AFTER_DOCUMENT = (LOG, DOCUMENT, DOCUMENT + ".dsse", SEAL, SEAL + ".dsse",
                  "reports/stages/validate.json")


@dataclass(frozen=True)
class StageRecord:
    name: str
    status: Status
    reason: str
    duration: float
    started: str | None
    ended: str | None
    run_id: str
    imported: bool
    checks: tuple[tuple[str, Status, str], ...] = ()
    tool_versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "status": self.status.value, "duration": self.duration,
            "reason": self.reason, "started": self.started, "ended": self.ended,
            "run_id": self.run_id,
        }


@dataclass(frozen=True)
class RunRecord:
    root: Path
    run_id: str
    started: str
    partial: bool
    mode: str
    finished: bool  # the log has its run_end line
    log: LogVerification
    stages: dict[str, StageRecord]
    outputs: tuple[tuple[str, str], ...]  # (path, sha256) of each artifact event of the log

    @property
    def log_path(self) -> Path:
        return self.root / LOG


def read_run(root: Path) -> RunRecord:
    """Raises EvidenceError (ChainBrokenError) when the log or a result file does not verify."""
    log_path = root / LOG
    if not log_path.is_file():
        raise EvidenceError(f"{root}: no event log at {LOG}")
    checked = verify(log_path)
    run_id, started, partial, mode, finished = "", "", False, "full", False
    ends: dict[str, dict[str, Any]] = {}
    imports: dict[str, dict[str, Any]] = {}
    results: dict[str, str] = {}
    outputs: list[tuple[str, str]] = []
    for record in iter_records(log_path):
        event = record.get("event")
        if event == "run_start":
            run_id, started = str(record.get("run_id", "")), str(record.get("ts", ""))
            partial, mode = bool(record.get("partial")), str(record.get("mode", "full"))
        elif event == "run_end":
            finished = True
        elif event == "stage_end":
            ends[str(record["stage"])] = record
        elif event == "import":
            imports[str(record["stage"])] = record
        elif event == "artifact":
            outputs.append((str(record["path"]), str(record["sha256"])))
            if record.get("kind") == "result":
                results[str(record["stage"])] = str(record["sha256"])
    if not run_id:
        raise EvidenceError(f"{log_path}: no run_start line")
    stages: dict[str, StageRecord] = {}
    for name, record in imports.items():
        stages[name] = StageRecord(
            name, _status(record), str(record.get("reason", "")), 0.0, None, None,
            str(record.get("from_run_id") or run_id), True,
        )
    for name, record in ends.items():
        result = _result(root, name, results.get(name))
        stages[name] = StageRecord(
            name, _status(record), str(record.get("reason", "")),
            float(record.get("duration", 0.0)), result.get("started"), result.get("ended"),
            run_id, False,
            tuple((str(c["id"]), Status(c["status"]), str(c.get("detail", "")))
                  for c in result.get("checks", [])),
            {str(k): str(v) for k, v in dict(result.get("tool_versions", {})).items()},
        )
    return RunRecord(root, run_id, started, partial, mode, finished, checked, stages,
                     tuple(outputs))


def _status(record: dict[str, Any]) -> Status:
    try:
        return Status(record.get("status"))
    except ValueError as exc:
        raise EvidenceError(f"event log: unknown status {record.get('status')!r}") from exc


def _result(root: Path, stage: str, expected: str | None) -> dict[str, Any]:
    path = root / "reports" / "stages" / f"{stage}.json"
    if expected is None:
        raise EvidenceError(f"event log: no result file recorded for stage {stage}")
    if not path.is_file():
        raise EvidenceError(f"{path}: missing (the event log records it)")
    if sha256_file(path) != expected:
        raise EvidenceError(f"{path}: sha256 differs from the event log")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
