"""An earlier run's evidence used by `run --only ... --from DIR`.

DIR is an earlier workspace (or a copy of its reports/ and artifacts/). It is accepted only when
it is sealed by a key the command was given (evidence.trust) and its event log and result files
verify (evidence.reader); an output is imported only when its bytes still hash to what the log
says, and every path stays inside reports/ or artifacts/ on both sides.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core.errors import EvidenceError, FromDirError
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import StageResult
from finsig_runner.core.outputs import contained
from finsig_runner.evidence.reader import RunRecord, read_run
from finsig_runner.evidence.trust import Trust, accept


@dataclass(frozen=True)
class EarlierRun:
    root: Path
    run_id: str
    chain_hash: str
    record: RunRecord

    signed_by: str | None = None

    @classmethod
    def open(cls, root: Path, trust: Trust) -> EarlierRun:
        """Verified before anything is read: sealed by a trusted key (or unsigned, when
        allowed), every path inside reports/ or artifacts/."""
        try:
            signed_by = accept(root, trust, "--from")
            record = read_run(root)
        except EvidenceError as exc:
            raise FromDirError(f"--from {root}: evidence refused: {exc}") from exc
        return cls(root, record.run_id, record.log.chain_hash, record, signed_by)

    def result(self, stage: str) -> StageResult | None:
        return self.record.stages.get(stage)

    def missing_output(self, stage: str) -> str | None:
        """The first output of `stage` that is absent or changed in DIR, else None."""
        for out in self.record.outputs_of(stage):
            path = self.root / out.path
            if not path.is_file():
                return f"{out.path} (missing)"
            if sha256_file(path) != out.sha256:
                return f"{out.path} (sha256 differs from the event log)"
        return None

    def copy_outputs(self, stage: str, workspace: Path) -> None:
        outputs = self.record.outputs_of(stage)
        pairs = [(contained(self.root, Path(o.path)), contained(workspace, Path(o.path)))
                 for o in outputs]  # every path checked before anything is copied
        for source, target in pairs:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
