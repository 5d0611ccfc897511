"""Write an OCI image layout (oci-layout, index.json, blobs/sha256/…) from a docker-archive.

Layers are stored uncompressed (`application/vnd.oci.image.layer.v1.tar`): the blob is the layer
tar itself, so each layer's digest is its diff_id and the manifest names the same digests as the
config. Compression would add a second set of digests that depend on the compressor's version
and settings (zlib's output is not promised stable across versions), so a registry or another
machine could not reproduce them; offline, the site registry is local and size on the wire does
not matter. A registry push must send these blobs and this manifest as they are (no recompression,
e.g. skopeo copy --preserve-digests) for the digests to survive.

The config blob is the archive's config, byte for byte: its digest is the Docker image ID.
Several images can share one layout (e.g. a bundle): each is an index.json entry named by the
annotation org.opencontainers.image.ref.name, and blobs are stored once. index.json is written
last and atomically, so a failure leaves the previous index and at most unreferenced blobs.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from finsig_runner.oci.archive import DockerArchive
from finsig_runner.oci.config import canonical_json, parse_object
from finsig_runner.oci.errors import ImageFormatError, OciIOError, OciUsageError
from finsig_runner.oci.streams import HashingWriter, copy_stream, sha256_bytes

LAYOUT_FILE = "oci-layout"
LAYOUT_VERSION = "1.0.0"
INDEX = "index.json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
# The OCI grammar of a reference name: components of alphanumerics joined by separators.
_COMPONENT = r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*"
REF_PATTERN = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class LayoutResult:
    path: Path
    ref_name: str
    manifest: Descriptor  # its digest names the image
    config: Descriptor
    layers: tuple[Descriptor, ...]

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "ref_name": self.ref_name,
                "manifest_digest": self.manifest.digest, "manifest_size": self.manifest.size,
                "config_digest": self.config.digest,
                "layers": [layer.to_json() for layer in self.layers],
                "layer_compression": "none"}


def blob_path(root: Path, digest: str) -> Path:
    algorithm, _, hex_digest = digest.partition(":")
    if algorithm != "sha256" or len(hex_digest) != 64 or not all(
            c in "0123456789abcdef" for c in hex_digest):
        raise ImageFormatError(digest, "not a sha256 digest")
    return root / "blobs" / "sha256" / hex_digest


def _store(root: Path, source: IO[bytes], want: str | None = None) -> tuple[str, int]:
    """Copy a stream into blobs/sha256/<digest> (via a temporary file in the same directory)."""
    folder = root / "blobs" / "sha256"
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".incoming-", delete=False)
    try:
        with handle:
            writer = HashingWriter(handle)
            copy_stream(source, writer)
        if want is not None and writer.digest != want:
            raise ImageFormatError(want, f"the layer's sha256 is {writer.digest}")
        os.replace(handle.name, blob_path(root, writer.digest))
        return writer.digest, writer.size
    finally:
        Path(handle.name).unlink(missing_ok=True)


def _store_bytes(root: Path, data: bytes) -> tuple[str, int]:
    digest = sha256_bytes(data)
    path = blob_path(root, digest)
    if not path.is_file() or path.stat().st_size != len(data):
        _write_atomic(path, data)
    return digest, len(data)


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _prepare(root: Path) -> list[dict[str, Any]]:
    """Create the layout's skeleton, or check an existing one; the current index entries."""
    if root.exists() and not root.is_dir():
        raise OciUsageError(f"{root} exists and is not a directory")
    marker = root / LAYOUT_FILE
    if root.is_dir() and any(root.iterdir()) and not marker.is_file():
        raise OciUsageError(f"{root} is neither empty nor an OCI layout: choose another directory")
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    if not marker.is_file():
        _write_atomic(marker, canonical_json({"imageLayoutVersion": LAYOUT_VERSION}))
        return []
    index = root / INDEX
    if not index.is_file():
        return []
    entries = parse_object(index.read_bytes(), INDEX).get("manifests") or []
    return [e for e in entries if isinstance(e, dict)]


def write_layout(archive_path: Path, root: Path, ref_name: str | None = None) -> LayoutResult:
    """Add the image of a docker-archive to the layout at `root` (created if absent) under
    `ref_name` (default: the archive's first RepoTag), replacing an entry of the same name."""
    try:
        with DockerArchive(archive_path) as archive:
            name = ref_name or next(iter(archive.entry.tags), "")
            if not REF_PATTERN.match(name):
                raise OciUsageError(f"reference name {name!r} is not an OCI ref.name "
                                    "(e.g. finsig/app:0.1.0): give one with --ref")
            entries = _prepare(root)
            layers = []
            for index, path in enumerate(archive.entry.layers):
                want = archive.diff_ids[index]
                if not blob_path(root, want).is_file():
                    _store(root, archive.open(path), want)
                size = blob_path(root, want).stat().st_size
                layers.append(Descriptor(LAYER_MEDIA_TYPE, want, size))
            config = Descriptor(CONFIG_MEDIA_TYPE, *_store_bytes(root, archive.config_bytes))
            manifest_doc = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
                            "config": config.to_json(), "layers": [x.to_json() for x in layers]}
            manifest = Descriptor(MANIFEST_MEDIA_TYPE,
                                  *_store_bytes(root, canonical_json(manifest_doc)))
            entry = {**manifest.to_json(), "annotations": {REF_NAME: name}}
            kept = [e for e in entries if (e.get("annotations") or {}).get(REF_NAME) != name]
            index_doc = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE,
                         "manifests": [*kept, entry]}
            _write_atomic(root / INDEX, canonical_json(index_doc))
    except OSError as exc:
        raise OciIOError(f"writing the OCI layout {root} failed: {exc}") from exc
    return LayoutResult(root, name, manifest, config, tuple(layers))
