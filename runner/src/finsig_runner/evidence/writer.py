"""Writes the signed evidence: provenance, the validation document, and the event-log seal.

Order matters: SBOMs and provenance first (the document lists their hashes), the document next
(it records the event log's chain hash as of its writing), the seal last, after the run's final
log line (it records the final chain hash, so that every line of the log is covered by a signature).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner.core import signing
from finsig_runner.core.config import RunnerConfig
from finsig_runner.evidence import document, provenance, schema
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.evidence.files import DOCUMENT, LOG, PUBLIC_KEY, SEAL
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import FileDigest

SEAL_PAYLOAD_TYPE = "application/vnd.finsig.event-log-seal+json"


@dataclass(frozen=True)
class Signer:
    key: signing.PrivateKey | None
    required: bool
    reason: str  # why there is no key ("" with a key)

    @classmethod
    def from_config(cls, config: RunnerConfig, workspace: Path) -> Signer:
        if not config.signing_key:
            return cls(None, config.require_signature, "no signing_key configured")
        path = Path(config.signing_key)
        path = path if path.is_absolute() else workspace / path
        try:
            return cls(signing.load_private_key(path), config.require_signature, "")
        except signing.KeyFileError as exc:
            return cls(None, config.require_signature, f"signing key unusable: {exc}")

    @property
    def keyid(self) -> str | None:
        return signing.fingerprint(self.key) if self.key is not None else None

    def signing(self) -> document.Signing:
        return document.Signing(self.key is not None, self.keyid, self.required, self.reason)


def write_signed(path: Path, data: bytes, payload_type: str, signer: Signer,
                 writer: OutputWriter) -> None:
    """The file, and with a key `<file>.dsse` whose payload is byte-equal to it."""
    written = writer.data(path, data)
    envelope = path.with_name(path.name + ".dsse")
    if signer.key is not None:
        writer.data(envelope, signing.sign_envelope(written, payload_type, signer.key))
    else:
        envelope.unlink(missing_ok=True)


def write_provenance(root: Path, files: Sequence[FileDigest], locks: Sequence[Path],
                     content: document.Content, signer: Signer, stages: Sequence[str],
                     mode: str, writer: OutputWriter) -> dict[str, Any]:
    lock_digests = [FileDigest(str(p.relative_to(root)), p.stat().st_size, sha256_file(p))
                    for p in locks if p.is_file()]
    run = provenance.Invocation(content.run_id, content.started, content.ended,
                                content.runner_version, content.image_id, tuple(stages), mode)
    stmt = provenance.statement(files, lock_digests, content.source, run)
    data = writer.redactor.data(provenance.encode(stmt))
    signed, unsigned = root / provenance.SIGNED_NAME, root / provenance.UNSIGNED_NAME
    if signer.key is not None:
        writer.data(signed, signing.sign_envelope(data, signing.IN_TOTO_PAYLOAD_TYPE, signer.key))
        unsigned.unlink(missing_ok=True)
        path = provenance.SIGNED_NAME
    else:
        writer.data(unsigned, data + b"\n")
        signed.unlink(missing_ok=True)
        path = provenance.UNSIGNED_NAME
    subjects = [f.path for f in sorted(files, key=lambda f: f.path)
                if provenance.is_subject(f.path)]
    return {"path": path, "signed": signer.key is not None, "subjects": subjects}


@dataclass(frozen=True)
class Written:
    document: dict[str, Any]
    errors: tuple[str, ...]  # schema errors ([] when valid)


def write_document(root: Path, content: document.Content, signer: Signer,
                   writer: OutputWriter) -> Written:
    doc = writer.redactor.json(document.build(content))
    errors = tuple(schema.errors(doc))
    write_signed(root / DOCUMENT, document.encode(doc), document.PAYLOAD_TYPE, signer, writer)
    return Written(doc, errors)


def write_seal(root: Path, run_id: str, lines: int, chain_hash: str, signer: Signer,
               writer: OutputWriter) -> None:
    """artifacts/event-log-seal.json (+ .dsse): the final chain hash, after the run's end line."""
    doc = root / DOCUMENT
    seal = {
        "run_id": run_id,
        "event_log": {"path": LOG, "lines": lines,
                      "chain_hash": chain_hash},
        "document_sha256": sha256_file(doc) if doc.is_file() else None,
    }
    data = (json.dumps(seal, indent=2, sort_keys=True) + "\n").encode()
    write_signed(root / SEAL, data, SEAL_PAYLOAD_TYPE, signer, writer)


def write_public_key(root: Path, signer: Signer, writer: OutputWriter) -> None:
    """The signer's public key beside the evidence: a verifier may use it only through a
    fingerprint pinned on its own (never trusted for being there)."""
    path = root / PUBLIC_KEY
    if signer.key is not None:
        writer.data(path, signing.public_key_pem(signer.key))
    else:
        path.unlink(missing_ok=True)
