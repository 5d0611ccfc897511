"""`bundle verify`: every check, in order, streaming; the first failure stops and is named."""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from finsig_runner.core import signing
from finsig_runner.bundle.errors import BundleVerificationError
from finsig_runner.bundle.layout import (
    Layout,
    list_members,
    read_layout,
    read_manifest_bytes,
    saved_image_configs,
)
from finsig_runner.bundle.manifest import Manifest, Member, Statement
from finsig_runner.bundle.streams import sha256_stream

MAX_ENVELOPE = 1 << 20


@dataclass(frozen=True)
class CheckLine:
    """One line of output: `signature ........ ok`."""

    name: str
    ok: bool
    detail: str = ""

    def render(self, width: int = 20) -> str:
        dots = "." * max(2, width - len(self.name))
        status = "ok" if self.ok else "FAILED"
        return f"{self.name} {dots} {status}" + (f" ({self.detail})" if self.detail else "")


Reporter = Callable[[CheckLine], None]


@dataclass(frozen=True)
class VerifiedBundle:
    path: Path
    statement: Statement
    manifest: Manifest
    layout: Layout


@contextmanager
def _check(name: str, report: Reporter, detail: str = "") -> Iterator[list[str]]:
    """Run one check; report it ok (with any detail appended to the yielded list) or FAILED."""
    notes: list[str] = [detail] if detail else []
    try:
        yield notes
    except BundleVerificationError as exc:
        report(CheckLine(name, False, exc.detail))
        if exc.check != name:
            raise BundleVerificationError(name, exc.detail) from exc
        raise
    except signing.SignatureError as exc:
        report(CheckLine(name, False, str(exc)))
        raise BundleVerificationError(name, str(exc)) from exc
    except (OSError, EOFError, ValueError, KeyError, TypeError, tarfile.TarError) as exc:
        # I/O errors, or content that is authentic (hashes passed) yet malformed
        report(CheckLine(name, False, str(exc)))
        raise BundleVerificationError(name, str(exc)) from exc
    report(CheckLine(name, True, "; ".join(n for n in notes if n)))


def verify_bundle(
    path: Path, trusted: Ed25519PublicKey, report: Reporter = lambda _line: None
) -> VerifiedBundle:
    """Signature -> whole-file sha256 -> layout -> manifest sha256 -> members -> images.

    Raises BundleVerificationError (exit 1) naming the first check that fails; `report` gets one
    CheckLine per check run. Reads the bundle in chunks only.
    """
    with _check("signature", report) as notes:
        statement = _verified_statement(path, trusted)
        notes.append(f"key {signing.fingerprint(trusted)[:16]}")
    with path.open("rb") as handle:
        with _check("bundle sha256", report) as notes:
            size = os.fstat(handle.fileno()).st_size
            if size != statement.bundle_size:
                raise BundleVerificationError(
                    "bundle sha256", f"file is {size} bytes, signed size is {statement.bundle_size}"
                )
            sha, _ = sha256_stream(handle)
            if sha != statement.bundle_sha256:
                raise BundleVerificationError(
                    "bundle sha256",
                    f"file sha256 {sha} differs from signed {statement.bundle_sha256}",
                )
            notes.append(f"{size} bytes")
        with _check("layout", report):
            layout = read_layout(handle, size)
        with _check("manifest sha256", report):
            manifest = _verified_manifest(handle, layout, statement)
        with _check("members", report) as notes:
            _check_members(handle, layout, manifest)
            notes.append(f"{len(manifest.members)} members of images.tar")
        with _check("images", report) as notes:
            _check_images(handle, layout, manifest)
            notes.append(", ".join(image.ref for image in manifest.images))
    return VerifiedBundle(path, statement, manifest, layout)


def _verified_statement(path: Path, trusted: Ed25519PublicKey) -> Statement:
    envelope_path = Path(f"{path}.dsse")
    try:
        with envelope_path.open("rb") as handle:
            data = handle.read(MAX_ENVELOPE + 1)
    except OSError as exc:
        raise BundleVerificationError("signature", f"cannot read {envelope_path}: {exc}") from exc
    if len(data) > MAX_ENVELOPE:
        raise BundleVerificationError("signature", f"{envelope_path} is too large")
    payload = signing.verify_envelope(data, trusted, signing.IN_TOTO_PAYLOAD_TYPE)
    try:
        return Statement.from_bytes(payload)
    except BundleVerificationError as exc:
        raise BundleVerificationError("signature", f"signed statement: {exc.detail}") from exc


def _verified_manifest(handle: BinaryIO, layout: Layout, statement: Statement) -> Manifest:
    data = read_manifest_bytes(handle, layout)
    sha = hashlib.sha256(data).hexdigest()
    if sha != statement.manifest.sha256 or len(data) != statement.manifest.size:
        raise BundleVerificationError(
            "manifest sha256",
            f"manifest.json sha256 {sha} differs from signed {statement.manifest.sha256}",
        )
    manifest = Manifest.from_bytes(data)
    if manifest.images_tar.size != layout.images_size:
        raise BundleVerificationError(
            "manifest sha256",
            f"images.tar is {layout.images_size} bytes, manifest says {manifest.images_tar.size}",
        )
    return manifest


def _check_members(handle: BinaryIO, layout: Layout, manifest: Manifest) -> None:
    found = list_members(handle, layout.images_offset, layout.images_size)
    expected = {m.name: m for m in manifest.members}
    seen = {m.name: m for m in found}
    for member in found:
        want = expected.get(member.name)
        if want is None:
            raise BundleVerificationError("members", f"{member.name}: not in the manifest")
        if want != member:
            raise BundleVerificationError("members", f"{member.name}: {_difference(want, member)}")
    for name in expected:
        if name not in seen:
            raise BundleVerificationError("members", f"{name}: listed in the manifest, missing")
    if [m.name for m in found] != [m.name for m in manifest.members]:
        raise BundleVerificationError("members", "member order differs from the manifest")


def _difference(want: Member, got: Member) -> str:
    for field in ("type", "size", "sha256", "linkname"):
        if getattr(want, field) != getattr(got, field):
            return f"{field} is {getattr(got, field)!r}, manifest says {getattr(want, field)!r}"
    return "differs from the manifest"


def _check_images(handle: BinaryIO, layout: Layout, manifest: Manifest) -> None:
    configs = saved_image_configs(handle, layout.images_offset, layout.images_size)
    for image in manifest.images:
        if configs.get(image.ref) != image.id:
            raise BundleVerificationError(
                "images",
                f"{image.ref}: images.tar holds {configs.get(image.ref)}, manifest {image.id}",
            )
