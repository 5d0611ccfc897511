"""Sealing: the one step that holds the signing key (docs/threat-model.md).

`finsig-runner seal DIR --key FILE` runs after the run's process and containers are gone. It
refuses (EvidenceError, exit 1) unless nothing of the run is still alive, every check of the
evidence passes (the same checks `verify` makes, without a key), the key is the signer the
document expects, and the key appears in no file of the evidence. Only then does it write the
DSSE envelopes — the document's, the event-log seal's, the provenance's — and the public key
beside them. An unusable key is a tool error (exit 3); nothing is written then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core import signing
from finsig_runner.core.errors import EvidenceError, ToolError
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.core.redaction import Redactor
from finsig_runner.evidence import document
from finsig_runner.evidence.files import DOCUMENT, PUBLIC_KEY, SEAL
from finsig_runner.evidence.verify import verify_evidence
from finsig_runner.evidence.writer import SEAL_PAYLOAD_TYPE


class SealKeyError(ToolError):
    """The signing key given to the sealer cannot be used (exit 3)."""


class SealRefused(EvidenceError):
    """The evidence may not be sealed (exit 1); the message says why."""


@dataclass(frozen=True)
class Leftovers:
    """What of the run is still alive, as the caller found it."""

    processes: tuple[int, ...] = ()
    containers: tuple[str, ...] = ()
    containers_checked: bool = True  # False when no Docker engine could be asked


@dataclass(frozen=True)
class Sealed:
    run_id: str
    signer: str
    envelopes: tuple[str, ...]
    note: str  # e.g. "containers not checked: no Docker engine"


def load_key(path: Path) -> signing.PrivateKey:
    try:
        return signing.load_private_key(path)
    except signing.KeyFileError as exc:
        raise SealKeyError(f"the signing key is unusable: {exc}") from exc


def _refuse_leftovers(left: Leftovers) -> None:
    if left.processes:
        pids = ", ".join(str(p) for p in left.processes[:10])
        raise SealRefused(f"refused: processes of the run are still alive (pids {pids}); wait "
                          "for the run to end (or kill them) and seal again")
    if left.containers:
        raise SealRefused("refused: containers created by the run still exist: "
                          f"{', '.join(left.containers[:10])} (finsig-runner clean removes them)")


def _refuse_unverified(root: Path) -> dict[str, object]:
    report = verify_evidence(root, trusted=None, allow_partial=True)
    failure = report.evidence_failure()
    if failure is not None:
        raise SealRefused(f"refused: the evidence does not verify: {failure.name}: "
                          f"{failure.detail}")
    loaded: dict[str, object] = json.loads((root / DOCUMENT).read_bytes())
    return loaded


def _refuse_signer(doc: dict[str, object], key: signing.PrivateKey) -> str:
    given = signing.fingerprint(key)
    signing_part = doc.get("signing")
    expected = signing_part.get("expected_signer") if isinstance(signing_part, dict) else None
    if expected is None:
        raise SealRefused("refused: the run names no expected signer, so it never asked for "
                          "this key (set expected_signer before the run)")
    if expected != given:
        raise SealRefused(f"refused: the run expects signer {expected}, this key is {given}")
    return given


def _refuse_leaked_key(root: Path, doc: dict[str, object], key: signing.PrivateKey) -> None:
    redactor = Redactor(signing.secret_forms(key))
    listed = doc.get("files")
    paths = [root / str(f["path"]) for f in listed if isinstance(f, dict)] if isinstance(
        listed, list) else []
    leaks = redactor.scan([root / "reports", root / "artifacts"]) + [
        (p, name) for p in paths if p.is_file() for name in redactor.find_in_file(p)]
    if leaks:
        where = ", ".join(sorted({str(p.relative_to(root)) for p, _ in leaks}))
        raise SealRefused(f"refused: the signing key itself appears in the evidence ({where}): "
                          "the key is compromised; make a new pair")


def seal(root: Path, key_path: Path, left: Leftovers) -> Sealed:
    root = root.resolve()
    key = load_key(key_path)
    _refuse_leftovers(left)
    if not (root / DOCUMENT).is_file():
        raise SealRefused(f"refused: no {DOCUMENT} in {root}: nothing to seal")
    doc = _refuse_unverified(root)
    signer = _refuse_signer(doc, key)
    _refuse_leaked_key(root, doc, key)
    writer = OutputWriter(root, Redactor({}))
    envelopes = [_sign(writer, root / DOCUMENT, document.PAYLOAD_TYPE, key)]
    if doc.get("kind") == "run":
        envelopes.append(_sign(writer, root / SEAL, SEAL_PAYLOAD_TYPE, key))
    prov = doc.get("provenance")
    if isinstance(prov, dict) and prov.get("path") and prov.get("envelope"):
        envelopes.append(_sign(writer, root / str(prov["path"]), signing.IN_TOTO_PAYLOAD_TYPE,
                               key, root / str(prov["envelope"])))
    writer.data(root / PUBLIC_KEY, signing.public_key_pem(key))
    note = "" if left.containers_checked else "containers not checked: no Docker engine here"
    return Sealed(str(doc.get("run_id")), signer, tuple(envelopes), note)


def _sign(writer: OutputWriter, path: Path, payload_type: str, key: signing.PrivateKey,
          envelope: Path | None = None) -> str:
    target = envelope or path.with_name(path.name + ".dsse")
    writer.data(target, signing.sign_envelope(path.read_bytes(), payload_type, key))
    return str(target.relative_to(writer.workspace))
