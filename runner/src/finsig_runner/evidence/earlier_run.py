"""An earlier run's evidence used by `run --only ... --from DIR`.

DIR is an earlier workspace (or a copy of its reports/ and artifacts/). It is accepted only when
DIR/artifacts/ci_cd_events.log verifies; the log is then the record of what each stage produced:
an output is imported only when its bytes still hash to what the log says.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from finsig_runner.core.errors import ChainBrokenError, FromDirError
from finsig_runner.core.events import LOG_NAME, iter_records, verify
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import FileDigest, Status


@dataclass(frozen=True)
class EarlierStage:
    name: str
    status: Status
    reason: str
    outputs: tuple[FileDigest, ...]


@dataclass(frozen=True)
class EarlierRun:
    root: Path
    run_id: str
    chain_hash: str
    stages: dict[str, EarlierStage] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path) -> EarlierRun:
        log = root / "artifacts" / LOG_NAME
        if not log.is_file():
            raise FromDirError(f"--from {root}: no event log at {log}")
        try:
            checked = verify(log)
        except ChainBrokenError as exc:
            raise FromDirError(f"--from {root}: event log refused: {exc}") from exc
        run_id = ""
        statuses: dict[str, tuple[Status, str]] = {}
        outputs: dict[str, list[FileDigest]] = {}
        for record in iter_records(log):
            event = record.get("event")
            if event == "run_start":
                run_id = str(record.get("run_id", ""))
            elif event in ("stage_end", "import"):
                try:
                    status = Status(record.get("status"))
                except ValueError:
                    continue
                statuses[str(record["stage"])] = (status, str(record.get("reason", "")))
            elif event == "artifact" and record.get("kind") == "output":
                outputs.setdefault(str(record.get("stage")), []).append(
                    FileDigest(str(record["path"]), int(record["size"]), str(record["sha256"]))
                )
        stages = {
            name: EarlierStage(name, status, reason, tuple(outputs.get(name, ())))
            for name, (status, reason) in statuses.items()
        }
        return cls(root, run_id, checked.chain_hash, stages)

    def missing_output(self, stage: EarlierStage) -> str | None:
        """The first output of `stage` that is absent or changed in DIR, else None."""
        for out in stage.outputs:
            path = self.root / out.path
            if not path.is_file():
                return f"{out.path} (missing)"
            if sha256_file(path) != out.sha256:
                return f"{out.path} (sha256 differs from the event log)"
        return None

    def copy_outputs(self, stage: EarlierStage, workspace: Path) -> None:
        for out in stage.outputs:
            target = workspace / out.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.root / out.path, target)
