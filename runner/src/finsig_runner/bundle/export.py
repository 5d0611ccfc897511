"""`bundle export`: one `docker save` streamed into the outer tar, a manifest, a signature."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from finsig_runner import __version__ as RUNNER_VERSION
from finsig_runner.core import signing
from finsig_runner.bundle import images as docker_images
from finsig_runner.bundle.errors import BundleError
from finsig_runner.bundle.layout import list_members, member_header, write_tail
from finsig_runner.bundle.manifest import (
    IMAGES_MEMBER,
    MANIFEST_MEMBER,
    Digest,
    ImageEntry,
    Manifest,
    Statement,
)
from finsig_runner.bundle.streams import BLOCK, padding, sha256_file
from finsig_runner.core.errors import UsageError


@dataclass(frozen=True)
class ExportResult:
    bundle: Path
    envelope: Path
    public_key: Path
    sha256: str
    size: int
    images: tuple[ImageEntry, ...]
    fingerprint: str
    seconds: float


def export_bundle(
    out: Path,
    key: Ed25519PrivateKey,
    client: Any,
    refs: Sequence[str] | None = None,
    version: str = RUNNER_VERSION,
    force: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> ExportResult:
    """Write OUT (images.tar + manifest.json), OUT.dsse (signed statement) and OUT.pub.

    `refs` are the images (name:tag, each required); None means the default set for `version`
    (see images.DEFAULT_PATTERNS / DEFAULT_REQUIRED). OUT is written under a temporary name and
    renamed only when complete; OUT.dsse last, so a bundle without its envelope never verifies.
    """
    started = time.monotonic()
    if not force:
        for path in (out, Path(f"{out}.dsse")):
            if path.exists():
                raise UsageError(f"{path} exists; give --force to replace it")
    chosen = list(refs) if refs else docker_images.default_image_refs(client, version)
    entries = tuple(docker_images.resolve_images(client, chosen))
    progress("images: " + ", ".join(f"{e.ref} ({e.id[:19]})" for e in entries))
    versions = {
        "appliance": version,
        "runner": RUNNER_VERSION,
        "docker_engine": docker_images.engine_version(client),
    }
    stream = docker_images.save_images(client, [e.ref for e in entries])
    result = write_bundle(out, key, entries, stream, versions, progress)
    return replace(result, seconds=time.monotonic() - started)


def write_bundle(
    out: Path,
    key: Ed25519PrivateKey,
    entries: Sequence[ImageEntry],
    saved: Iterable[bytes],
    versions: dict[str, str],
    progress: Callable[[str], None] = lambda _msg: None,
) -> ExportResult:
    """Write the bundle from a `docker save` byte stream `saved` holding `entries` (no engine
    needed here: the tests feed it a small synthetic archive)."""
    started = time.monotonic()
    envelope_path = Path(f"{out}.dsse")
    pub_path = Path(f"{out}.pub")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    created, mtime = now.strftime("%Y-%m-%dT%H:%M:%SZ"), int(now.timestamp())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("w+b") as handle:
            handle.write(b"\0" * BLOCK)  # images.tar's header, written once its size is known
            digest, size = hashlib.sha256(), 0
            for chunk in saved:
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            handle.write(padding(size))
            tail = handle.tell()
            handle.seek(0)
            handle.write(member_header(IMAGES_MEMBER, size, mtime))
            handle.flush()
            progress(f"docker save: {size} bytes")
            members = tuple(list_members(handle, BLOCK, size))
            manifest = Manifest(
                created=created,
                runner_version=RUNNER_VERSION,
                versions=dict(versions),
                images=tuple(entries),
                images_tar=Digest(IMAGES_MEMBER, size, digest.hexdigest()),
                members=members,
            )
            manifest_bytes = manifest.to_bytes()
            write_tail(handle, tail, manifest_bytes, mtime)
            handle.flush()
            os.fsync(handle.fileno())
        bundle_sha, bundle_size = sha256_file(partial)
        envelope = sign_statement(out.name, bundle_sha, bundle_size, manifest_bytes, created, key)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _write_atomic(envelope_path, envelope)
    _write_atomic(pub_path, signing.public_key_pem(key))
    return ExportResult(
        out, envelope_path, pub_path, bundle_sha, bundle_size, tuple(entries),
        signing.fingerprint(key), time.monotonic() - started,
    )


def sign_statement(
    name: str, sha256: str, size: int, manifest_bytes: bytes, created: str, key: Ed25519PrivateKey
) -> bytes:
    """The DSSE envelope (bytes) over the statement about a bundle file and its manifest."""
    statement = Statement(
        bundle_name=name,
        bundle_sha256=sha256,
        bundle_size=size,
        manifest=Digest(
            MANIFEST_MEMBER, len(manifest_bytes), hashlib.sha256(manifest_bytes).hexdigest()
        ),
        created=created,
        runner_version=RUNNER_VERSION,
    )
    return signing.sign_envelope(statement.to_bytes(), signing.IN_TOTO_PAYLOAD_TYPE, key)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"cannot write {path}: {exc}") from exc
