"""`finsig-runner validate --merge DIR...`: one validation, with the verdict, over partial runs.

Each DIR is one CI job's workspace (its reports/ and artifacts/), placed inside the merging
workspace. A job is accepted only when its event log verifies end to end (and ends with run_end),
every file its log records still has the recorded sha256, and its own PARTIAL document and seal,
when present, agree with the log. The merged document references each job's log by its final
chain hash and lists every job file with its hash, in place (nothing is copied).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner import __version__
from finsig_runner.core import signing
from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.errors import EvidenceError, UsageError
from finsig_runner.core.events import line_hash, rfc3339, utc_now
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import FileDigest, StageResult
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.core.redaction import Redactor
from finsig_runner.evidence import document, gitinfo
from finsig_runner.evidence.assemble import Assembly, assemble, in_order, vulnerability_database
from finsig_runner.evidence.files import DOCUMENT, LOG, SEAL
from finsig_runner.evidence.provenance import lock_files
from finsig_runner.evidence.reader import RunRecord, read_run
from finsig_runner.evidence.trust import Trust, accept
from finsig_runner.evidence.verdict import Policy
from finsig_runner.evidence.writer import Written


@dataclass(frozen=True)
class Job:
    record: RunRecord
    rel: str  # its root, relative to the merging workspace
    signed_by: str | None  # the trusted key that sealed it (None: taken unsigned, by request)

    @property
    def socket_exposed(self) -> tuple[str, ...]:
        doc = self.record.root / DOCUMENT
        if not doc.is_file():
            return ()
        return tuple(json.loads(doc.read_bytes()).get("socket_exposed") or ())


def open_job(workspace: Path, root: Path, trust: Trust) -> Job:
    root = root.resolve()
    if root == workspace or not root.is_relative_to(workspace):
        raise UsageError(f"{root}: a job directory must be inside the workspace {workspace} "
                         "(and not the workspace itself)")
    signed_by = accept(root, trust, "job")  # before anything else is read
    try:
        record = read_run(root)
    except EvidenceError as exc:
        raise EvidenceError(f"job {root}: refused: {exc}") from exc
    if not record.finished:
        raise EvidenceError(f"job {root}: refused: its event log has no run_end line "
                            "(truncated, or the run never ended)")
    for out in record.outputs:
        target = root / out.path
        if not target.is_file() or sha256_file(target) != out.sha256:
            raise EvidenceError(f"job {root}: refused: {out.path} differs from its event log")
    _own_evidence_agrees(root, record)
    return Job(record, str(root.relative_to(workspace)), signed_by)


def _own_evidence_agrees(root: Path, record: RunRecord) -> None:
    hashes = [line_hash(ln) for ln in (root / LOG).read_bytes().split(b"\n")[:-1]]
    doc_path, seal_path = root / DOCUMENT, root / SEAL
    if doc_path.is_file():
        listed = json.loads(doc_path.read_bytes()).get("event_log") or {}
        n = listed.get("lines", 0)
        if not (0 < n <= len(hashes)) or hashes[n - 1] != listed.get("chain_hash"):
            raise EvidenceError(f"job {root}: refused: its document's chain hash is not in its log")
    if seal_path.is_file():
        sealed = json.loads(seal_path.read_bytes()).get("event_log") or {}
        if sealed.get("chain_hash") != record.log.chain_hash:
            raise EvidenceError(f"job {root}: refused: its seal does not match its log's end")


def _stages(jobs: Sequence[Job]) -> list[StageResult]:
    """Every stage that ran in some job (imported copies and each job's validate left out)."""
    found: dict[str, StageResult] = {}
    owner: dict[str, str] = {}
    for job in jobs:
        for name, stage in job.record.stages.items():
            if (stage.origin and stage.origin.imported) or name == "validate":
                continue
            if name in found:
                raise UsageError(f"stage {name} ran in two jobs: {owner[name]} and {job.rel}")
            found[name], owner[name] = stage, job.rel
    return list(found.values())


def merge(workspace: Path, job_dirs: Sequence[Path], config: RunnerConfig,
          declared: Mapping[str, tuple[str, ...]], trust: Trust,
          writer: OutputWriter | None = None) -> Written:
    workspace = workspace.resolve()
    writer = writer or OutputWriter(workspace, Redactor.from_env(config.secret_env))
    if not job_dirs:
        raise UsageError("validate --merge needs at least one job directory")
    if (workspace / DOCUMENT).exists():
        raise UsageError(f"{workspace / DOCUMENT} exists: merge into a workspace of its own")
    jobs = [open_job(workspace, d, trust) for d in job_dirs]
    stages = in_order(_stages(jobs), tuple(declared))
    expected = signing.expected_fingerprint(config.expected_signer, workspace)
    signing_part = document.Signing(
        expected, "" if expected else "no expected_signer configured",
        allow_unsigned_jobs=any(j.signed_by is None for j in jobs))
    job_files = [f for job in jobs for f in document.list_files(job.record.root, workspace, (LOG,))]
    digest = hashlib.sha256("".join(j.record.log.chain_hash for j in jobs).encode()).hexdigest()
    now = utc_now()
    assembly = Assembly(
        kind="merge", mode="merge", run_id=f"merge-{now:%Y%m%dT%H%M%SZ}-{digest[:8]}",
        runner_version=__version__, image_id=None, source=gitinfo.source(workspace),
        started=min(j.record.started for j in jobs), ended=rfc3339(now), partial=False,
        stages=stages, declared=declared, policy=Policy.from_config(config),
        extra_failures=(), vulndb=vulnerability_database(stages), event_log=None,
        jobs=tuple(_job_json(j) for j in jobs), sbom=_sboms(job_files),
        locks=tuple(lock_files(workspace, config.requirements)), signing=signing_part,
        socket_exposed=tuple(sorted({n for j in jobs for n in j.socket_exposed})),
    )

    def files() -> list[FileDigest]:
        own = (document.list_files(workspace, workspace)
               if (workspace / "artifacts").is_dir() else [])
        return sorted({f.path: f for f in [*job_files, *own]}.values(), key=lambda f: f.path)

    return assemble(workspace, assembly, files, writer)


def _job_json(job: Job) -> dict[str, Any]:
    ran = [n for n, s in job.record.stages.items() if not (s.origin and s.origin.imported)]
    return {
        "run_id": job.record.run_id,
        "root": job.rel,
        "stages": ran,
        "event_log": {"path": f"{job.rel}/{LOG}", "lines": job.record.log.lines,
                      "chain_hash": job.record.log.chain_hash},
        "signed_by": job.signed_by,
    }


def _sboms(files: Sequence[FileDigest]) -> dict[str, str | None]:
    def first(suffix: str) -> str | None:
        return next((f.path for f in files if f.path.endswith(suffix)), None)

    return {"app": first("artifacts/sbom-app.cdx.json"),
            "runner": first("artifacts/sbom-runner.cdx.json")}
