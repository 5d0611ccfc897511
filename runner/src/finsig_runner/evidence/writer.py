"""Writes the run's evidence, unsigned: provenance, the validation document, the event-log seal.

Order matters: SBOMs and provenance first (the document lists their hashes), the document next
(it records the event log's chain hash as of its writing), the seal last, after the run's final
log line (it records the final chain hash). Nothing here signs: `finsig-runner seal`
(evidence/seal.py) signs the finished run's document, seal and provenance with the key the run
never had (docs/threat-model.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import FileDigest
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.evidence import document, provenance, schema
from finsig_runner.evidence.files import DOCUMENT, LOG, SEAL

SEAL_PAYLOAD_TYPE = "application/vnd.finsig.event-log-seal+json"


def write_provenance(root: Path, files: Sequence[FileDigest], locks: Sequence[Path],
                     content: document.Content, stages: Sequence[str], mode: str,
                     writer: OutputWriter) -> dict[str, Any]:
    """The unsigned in-toto Statement (the sealer wraps it in a DSSE envelope later)."""
    lock_digests = [FileDigest(str(p.relative_to(root)), p.stat().st_size, sha256_file(p))
                    for p in locks if p.is_file()]
    run = provenance.Invocation(content.run_id, content.started, content.ended,
                                content.runner_version, content.image_id, tuple(stages), mode)
    stmt = provenance.statement(files, lock_digests, content.source, run)
    writer.data(root / provenance.UNSIGNED_NAME, provenance.encode(stmt))
    subjects = [f.path for f in sorted(files, key=lambda f: f.path)
                if provenance.is_subject(f.path)]
    envelope = provenance.SIGNED_NAME if content.signing.expected_signer else None
    return {"path": provenance.UNSIGNED_NAME, "envelope": envelope, "subjects": subjects}


@dataclass(frozen=True)
class Written:
    document: dict[str, Any]
    errors: tuple[str, ...]  # schema errors ([] when valid)


def write_document(root: Path, content: document.Content, writer: OutputWriter) -> Written:
    doc = writer.redactor.json(document.build(content))
    errors = tuple(schema.errors(doc))
    writer.data(root / DOCUMENT, document.encode(doc))
    return Written(doc, errors)


def write_seal(root: Path, run_id: str, lines: int, chain_hash: str,
               writer: OutputWriter) -> None:
    """artifacts/event-log-seal.json: the final chain hash, after the run's end line."""
    doc = root / DOCUMENT
    seal = {
        "run_id": run_id,
        "event_log": {"path": LOG, "lines": lines, "chain_hash": chain_hash},
        "document_sha256": sha256_file(doc) if doc.is_file() else None,
    }
    writer.data(root / SEAL, (json.dumps(seal, indent=2, sort_keys=True) + "\n").encode())
