"""What a forger without the key can do to evidence: rewrite records and recompute the whole hash
chain (the chain is plain sha256), and turn a FAILED tests job into a PASSED one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from finsig_runner.core.events import GENESIS, encode, line_hash
from finsig_runner.core.hashing import sha256_file


def rechain(log: Path, edit: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
    """Rewrite a log's records and recompute its whole chain, as a forger without a key can."""
    prev, out = GENESIS, []
    for raw in log.read_bytes().split(b"\n")[:-1]:
        record = edit(json.loads(raw))
        if record is None:
            continue
        record.update(prev=prev, seq=len(out) + 1)
        line = encode(record)
        out.append(line)
        prev = line_hash(line)
    log.write_bytes(b"\n".join(out) + b"\n")


def forge_tests_passed(job: Path) -> None:
    """The reproduced attack: a FAILED tests job made PASSED, its chain recomputed, its own
    document and seal deleted."""
    result = job / "reports" / "stages" / "tests.json"
    data = json.loads(result.read_text())
    data["status"] = "PASSED"
    data["checks"] = [{**c, "status": "PASSED"} for c in data["checks"]]
    result.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    digest = sha256_file(result)

    gone = ("artifact-validation.json", "artifact-validation.json.dsse", "event-log-seal.json",
            "event-log-seal.json.dsse")

    def edit(record: dict[str, Any]) -> dict[str, Any] | None:
        if str(record.get("path", "")).rsplit("/", 1)[-1] in gone:
            return None
        if record.get("stage") == "tests" and record["event"] == "stage_end":
            record.update(status="PASSED", checks={k: "PASSED" for k in record["checks"]})
        if record.get("path") == "reports/stages/tests.json":
            record.update(sha256=digest, size=result.stat().st_size)
        return record

    rechain(job / "artifacts" / "ci_cd_events.log", edit)
    for name in gone:
        (job / "artifacts" / name).unlink(missing_ok=True)
