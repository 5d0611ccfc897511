"""Keys a person gives on the command line, and evidence accepted only when sealed by one.

`verify`, `report`, `validate --merge` and `run --only … --from DIR` all take `--pubkey
FILE|FINGERPRINT`: a PEM file outside the directory checked, or a fingerprint that a key carried
beside the evidence must match (that key is never trusted on its own). Evidence from another job
or directory is read only when accept() says so (docs/threat-model.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core import signing
from finsig_runner.core.errors import EvidenceError, UsageError
from finsig_runner.evidence.files import DOCUMENT, PUBLIC_KEY
from finsig_runner.evidence.verify import verify_evidence


def trusted_key(root: Path, value: str) -> signing.PublicKey:
    """The key `value` names, for evidence under `root`."""
    if signing.is_fingerprint(value):
        return signing.load_public_key(value, [root / PUBLIC_KEY])
    path = Path(value).resolve()
    if path.is_relative_to(root.resolve()):
        raise UsageError(f"--pubkey {value}: a key inside {root} is never trusted; give a key "
                         "you hold, or pin its fingerprint")
    return signing.load_public_key(path)


@dataclass(frozen=True)
class Trust:
    """The keys a command was given (as given), and whether it may take unsigned evidence."""

    pubkeys: tuple[str, ...] = ()
    allow_unsigned: bool = False

    @classmethod
    def of(cls, pubkeys: Sequence[str] | None, allow_unsigned: bool) -> Trust:
        return cls(tuple(pubkeys or ()), allow_unsigned)

    def keys_for(self, root: Path) -> list[signing.PublicKey]:
        keys: list[signing.PublicKey] = []
        for value in self.pubkeys:
            try:
                keys.append(trusted_key(root, value))
            except signing.KeyFileError:
                if not signing.is_fingerprint(value):
                    raise  # a key file that cannot be read is the command's error
        return keys


def accept(root: Path, trust: Trust, what: str) -> str | None:
    """The fingerprint of the trusted key that sealed `root`, or None when unsigned evidence is
    allowed. Raises EvidenceError naming why the evidence is refused."""
    first = ""
    for key in trust.keys_for(root):
        failure = verify_evidence(root, key, allow_partial=True).evidence_failure()
        if failure is None:
            return signing.fingerprint(key)
        first = first or f"{failure.name}: {failure.detail}"
    if trust.allow_unsigned:
        if not (root / DOCUMENT).is_file():
            return None  # a run without validate: the reader still verifies its chain and files
        failure = verify_evidence(root, None, allow_partial=True).evidence_failure()
        if failure is None:
            return None
        raise EvidenceError(f"{what} {root}: refused: {failure.name}: {failure.detail}")
    if not trust.pubkeys:
        raise EvidenceError(f"{what} {root}: refused: no trusted key given (--pubkey FILE|"
                            "FINGERPRINT); unsigned evidence only with --allow-unsigned")
    raise EvidenceError(f"{what} {root}: refused: not sealed by a trusted key "
                        f"({first or 'no candidate key matches the pinned fingerprint'})")
