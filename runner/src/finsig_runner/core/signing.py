"""Keys and signatures: Ed25519 key pairs and DSSE envelopes, the one place the runner signs.

The bundle (finsig_runner.bundle) and the evidence both sign and verify through this module.

Keys
    PEM files: the private key as unencrypted PKCS#8 (mode 0600), the public key as
    SubjectPublicKeyInfo. A key's *fingerprint* is the lowercase hex sha256 of the raw 32-byte
    Ed25519 public key; it is also the DSSE ``keyid``.

Envelopes (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md)
    ``{"payload": <b64>, "payloadType": <type>, "signatures": [{"keyid": <fp>, "sig": <b64>}]}``
    Each signature is Ed25519 over PAE(payloadType, payload) =
    ``b"DSSEv1 " + len(type) + b" " + type + b" " + len(payload) + b" " + payload`` (lengths as
    ASCII decimal of the byte lengths).

Canonical form (the only form this module writes or accepts)
    ``json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\\n"``
    with standard base64 (``+/``, ``=`` padding) for payload and sig, and exactly the keys above.
    The verifier re-serialises what it parsed and rejects input that is not byte-equal to that.

Trust
    A verifier trusts only the public key it is handed (loaded from a file the person names, or a
    candidate key accepted because its fingerprint equals one the person pinned). Nothing inside an
    envelope chooses the key: ``keyid`` must name the trusted key, or the envelope is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from finsig_runner.core.errors import ConfigError, EvidenceError, UsageError

__all__ = [
    "PRIVATE_KEY_NAME",
    "PUBLIC_KEY_NAME",
    "IN_TOTO_PAYLOAD_TYPE",
    "PrivateKey",
    "PublicKey",
    "KeyPairFiles",
    "KeyFileError",
    "KeyExistsError",
    "SignatureError",
    "Envelope",
    "Signature",
    "generate_key",
    "write_keypair",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
    "fingerprint",
    "is_fingerprint",
    "pae",
    "sign_envelope",
    "parse_envelope",
    "verify_envelope",
]

PRIVATE_KEY_NAME = "finsig-signing.key"
PUBLIC_KEY_NAME = "finsig-signing.pub"
# The payloadType of an in-toto Statement (what the bundle and the provenance sign).
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

# The key types of this module's API (aliases, so callers need not import cryptography).
PrivateKey = Ed25519PrivateKey
PublicKey = Ed25519PublicKey

_FINGERPRINT_RE = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")
_MAX_ENVELOPE_BYTES = 64 << 20  # an envelope bigger than this is refused before parsing


class KeyFileError(ConfigError):
    """A key file is missing, unreadable, not PEM, or not an Ed25519 key (exit 2)."""


class KeyExistsError(UsageError):
    """keygen would overwrite an existing key file (exit 2)."""


class SignatureError(EvidenceError):
    """An envelope does not verify: not canonical, wrong type, bad base64, unknown key, bad
    signature (exit 1). The message says which."""


@dataclass(frozen=True)
class KeyPairFiles:
    """What keygen wrote."""

    private: Path
    public: Path
    fingerprint: str


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": _b64(self.payload),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": s.keyid, "sig": _b64(s.sig)} for s in self.signatures],
        }

    def canonical(self) -> bytes:
        """The one byte form of this envelope."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return (text + "\n").encode("ascii")


# --- keys ----------------------------------------------------------------------------------------


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def fingerprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Lowercase hex sha256 of the raw 32-byte public key (also the DSSE keyid)."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def is_fingerprint(text: str) -> bool:
    """True for 64 hex digits, optionally prefixed with ``sha256:``."""
    return _FINGERPRINT_RE.match(text.strip()) is not None


def expected_fingerprint(value: str, base: Path) -> str | None:
    """The fingerprint `expected_signer` names: given as one, or read from a public key file
    (relative to `base`). None for "". Raises KeyFileError for an unreadable key file."""
    text = value.strip()
    if not text:
        return None
    match = _FINGERPRINT_RE.match(text)
    if match is not None:
        return match.group(1).lower()
    path = Path(text)
    return fingerprint(_load_public_pem(path if path.is_absolute() else base / path))


def secret_forms(key: Ed25519PrivateKey) -> dict[str, str | bytes]:
    """What of a private key must never appear in evidence: its PEM, the PEM's base64 body and
    its raw 32 bytes (hex), each as a Redactor secret."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return {"signing key PEM": pem, "signing key body": body, "signing key hex": raw.hex(),
            "signing key raw": raw}


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_keypair(directory: Path) -> KeyPairFiles:
    """Write DIR/finsig-signing.key (0600, PKCS#8 PEM) and DIR/finsig-signing.pub.

    Refuses (KeyExistsError) when either file exists; never overwrites. The private key file is
    created with O_EXCL and mode 0600, so it is never readable by others, not even for an instant.
    """
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / PRIVATE_KEY_NAME
    public_path = directory / PUBLIC_KEY_NAME
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise KeyExistsError(f"{path} already exists; refusing to overwrite a key")
    key = generate_key()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_exclusive(private_path, private_pem, 0o600)
    try:
        _write_exclusive(public_path, public_key_pem(key), 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return KeyPairFiles(private_path, public_path, fingerprint(key))


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise KeyExistsError(f"{path} already exists; refusing to overwrite a key") from exc
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed or widened nothing else
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if fd >= 0:
            os.close(fd)


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    """An Ed25519 private key from an unencrypted PKCS#8 PEM file."""
    data = _read_key_file(Path(path))
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(
    path_or_fingerprint: Path | str, candidates: Iterable[Path] = ()
) -> Ed25519PublicKey:
    """The key a verifier trusts, from what the *person verifying* gave.

    - a path to a SubjectPublicKeyInfo PEM file: that key;
    - a fingerprint (64 hex digits, optionally ``sha256:``-prefixed): the first of ``candidates``
      (public key PEM files, e.g. one carried beside a bundle) whose fingerprint equals it. A
      candidate is only ever accepted through the pinned fingerprint, never on its own.
    """
    text = str(path_or_fingerprint).strip()
    match = _FINGERPRINT_RE.match(text)
    if match is None:
        return _load_public_pem(Path(path_or_fingerprint))
    pinned = match.group(1).lower()
    tried: list[str] = []
    for candidate in candidates:
        if not candidate.is_file():
            continue
        tried.append(str(candidate))
        try:
            key = _load_public_pem(candidate)
        except KeyFileError:
            continue
        if hmac.compare_digest(fingerprint(key), pinned):
            return key
    where = ", ".join(tried) if tried else "no candidate key file found"
    raise KeyFileError(f"no public key with fingerprint {pinned} ({where})")


def _load_public_pem(path: Path) -> Ed25519PublicKey:
    data = _read_key_file(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(1 << 16)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror or exc}") from exc
    return data


# --- envelopes -----------------------------------------------------------------------------------


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def sign_envelope(payload: bytes, payload_type: str, key: Ed25519PrivateKey) -> bytes:
    """A canonical DSSE envelope (bytes, ending in a newline) with one Ed25519 signature."""
    if not payload_type:
        raise SignatureError("envelope: payload_type must not be empty (it would never verify)")
    sig = key.sign(pae(payload_type, payload))
    return Envelope(payload_type, payload, (Signature(fingerprint(key), sig),)).canonical()


def parse_envelope(data: bytes) -> Envelope:
    """Parse an envelope and insist on its canonical form. Does NOT check signatures."""
    if len(data) > _MAX_ENVELOPE_BYTES:
        raise SignatureError(f"envelope: larger than {_MAX_ENVELOPE_BYTES} bytes")
    try:
        obj = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SignatureError(f"envelope: not ASCII JSON ({exc})") from exc
    if not isinstance(obj, dict) or set(obj) != {"payload", "payloadType", "signatures"}:
        raise SignatureError("envelope: keys must be exactly payload, payloadType, signatures")
    payload_type = obj["payloadType"]
    if not isinstance(payload_type, str) or not payload_type:
        raise SignatureError("envelope: payloadType must be a non-empty string")
    payload = _unb64(obj["payload"], "payload")
    raw_sigs = obj["signatures"]
    if not isinstance(raw_sigs, list) or not raw_sigs:
        raise SignatureError("envelope: signatures must be a non-empty list")
    sigs: list[Signature] = []
    for index, raw in enumerate(raw_sigs):
        if not isinstance(raw, dict) or set(raw) != {"keyid", "sig"}:
            raise SignatureError(f"envelope: signatures[{index}] keys must be exactly keyid, sig")
        if not isinstance(raw["keyid"], str):
            raise SignatureError(f"envelope: signatures[{index}].keyid must be a string")
        sigs.append(Signature(raw["keyid"], _unb64(raw["sig"], f"signatures[{index}].sig")))
    envelope = Envelope(payload_type, payload, tuple(sigs))
    if envelope.canonical() != data:
        raise SignatureError("envelope: not in canonical form")
    return envelope


def verify_envelope(data: bytes, trusted: Ed25519PublicKey, payload_type: str) -> bytes:
    """Verify a canonical envelope against the one trusted key; return its payload.

    Refused (SignatureError): non-canonical bytes, a payloadType other than ``payload_type``,
    bad base64, any signature whose keyid is not the trusted key's fingerprint, any signature
    that does not verify.
    """
    envelope = parse_envelope(data)
    if envelope.payload_type != payload_type:
        raise SignatureError(
            f"envelope: payloadType {envelope.payload_type!r}, expected {payload_type!r}"
        )
    trusted_id = fingerprint(trusted)
    message = pae(envelope.payload_type, envelope.payload)
    for index, signature in enumerate(envelope.signatures):
        if not hmac.compare_digest(signature.keyid.encode(), trusted_id.encode()):
            raise SignatureError(
                f"envelope: signatures[{index}] by unknown key {signature.keyid!r} "
                f"(trusted: {trusted_id})"
            )
        try:
            trusted.verify(signature.sig, message)
        except InvalidSignature as exc:
            raise SignatureError(f"envelope: signatures[{index}] does not verify") from exc
    return envelope.payload


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise SignatureError(f"envelope: {what} must be a base64 string")
    try:
        decoded = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise SignatureError(f"envelope: {what} is not valid base64") from exc
    if _b64(decoded) != value:
        raise SignatureError(f"envelope: {what} is not canonical base64")
    return decoded
