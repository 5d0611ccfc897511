"""artifacts/artifact-validation.json: what a run (or a merge of partial runs) did, and the verdict.

Plain JSON (indent 2, sorted keys, UTF-8, final newline), valid against schemas/ci_cd_schema.json;
when a key is configured, artifact-validation.json.dsse beside it is a DSSE envelope whose payload
is byte-equal to the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner.evidence.files import AFTER_DOCUMENT
from finsig_runner.evidence.gitinfo import Source
from finsig_runner.evidence.verdict import Judgement
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import FileDigest, RunStatus, StageResult

PAYLOAD_TYPE = "application/vnd.finsig.artifact-validation+json"
SCHEMA_VERSION = 2


def encode(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def list_files(root: Path, base: Path, exclude: Iterable[str] = AFTER_DOCUMENT) -> list[FileDigest]:
    """Every file under root/reports and root/artifacts, paths relative to `base`, sorted."""
    skip = {str((root / e).relative_to(base)) for e in exclude}
    found: list[FileDigest] = []
    for sub in ("reports", "artifacts"):
        top = root / sub
        if not top.is_dir():
            continue
        for path in sorted(p for p in top.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = str(path.relative_to(base))
            if rel not in skip:
                found.append(FileDigest(rel, path.stat().st_size, sha256_file(path)))
    return sorted(found, key=lambda f: f.path)


def tool_versions(stages: Iterable[StageResult]) -> dict[str, dict[str, str]]:
    return {s.stage: dict(sorted(s.tool_versions.items())) for s in stages if s.tool_versions}


def stage_json(result: StageResult) -> dict[str, Any]:
    """A stage as the document lists it (the run that produced it named by its origin)."""
    return {
        "name": result.stage, "status": result.status.value, "duration": round(result.duration, 3),
        "reason": result.reason,
        "started": result.started.isoformat() if result.started else None,
        "ended": result.ended.isoformat() if result.ended else None,
        "run_id": result.origin.run_id if result.origin else None,
    }


@dataclass(frozen=True)
class Signing:
    """Who is to seal this evidence. The run never signs: `finsig-runner seal` does, with a key
    whose fingerprint must be `expected_signer`."""

    expected_signer: str | None
    reason: str  # why nobody is expected ("" when somebody is)
    allow_unsigned_jobs: bool = False  # a merge that took unsigned jobs (--allow-unsigned)

    def to_json(self) -> dict[str, Any]:
        return {"expected_signer": self.expected_signer, "reason": self.reason,
                "allow_unsigned_jobs": self.allow_unsigned_jobs}


@dataclass(frozen=True)
class Content:
    kind: str  # run | merge
    run_id: str
    runner_version: str
    image_id: str | None
    source: Source
    started: str
    ended: str
    partial: bool
    stages: tuple[StageResult, ...]
    judgement: Judgement | None  # None for a partial run: never a verdict
    allow_skipped: tuple[str, ...]
    files: tuple[FileDigest, ...]
    vulndb: dict[str, str] | None
    event_log: dict[str, Any] | None
    jobs: tuple[dict[str, Any], ...]
    sbom: dict[str, str | None]
    provenance: dict[str, Any]
    signing: Signing
    socket_exposed: tuple[str, ...] = ()  # stages that ran project code with Docker reachable


def build(c: Content) -> dict[str, Any]:
    required = set(c.judgement.required) if c.judgement else set()
    checks = [
        {"id": ck.id, "status": ck.status.value, "detail": ck.detail, "required": ck.id in required}
        for stage in c.stages for ck in stage.checks
    ]
    verdict: dict[str, Any] | None
    if c.partial or c.judgement is None:
        status, verdict = RunStatus.PARTIAL, None
    else:
        status = RunStatus.PASSED if c.judgement.passed else RunStatus.FAILED
        verdict = {
            "required_checks": list(c.judgement.required),
            "allow_skipped": list(c.allow_skipped),
            "failures": [f.to_json() for f in c.judgement.failures],
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": c.kind,
        "run_id": c.run_id,
        "runner": {"version": c.runner_version, "image_id": c.image_id},
        "source": c.source.to_json(),
        "started": c.started,
        "ended": c.ended,
        "partial": c.partial,
        "status": status.value,
        "verdict": verdict,
        "stages": [stage_json(s) for s in c.stages],
        "checks": sorted(checks, key=lambda ch: str(ch["id"])),
        "files": [f.to_json() for f in c.files],
        "tool_versions": tool_versions(c.stages),
        "vulnerability_database": c.vulndb,
        "event_log": c.event_log,
        "jobs": list(c.jobs),
        "sbom": c.sbom,
        "provenance": c.provenance,
        "signing": c.signing.to_json(),
        "socket_exposed": list(c.socket_exposed),
    }
